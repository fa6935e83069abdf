/**
 * The HTTP API's answers, written once as zod schemas. The routes are typed by them (a view that drifts
 * from its contract does not compile), the CLI parses every answer with them, and a future console can
 * import them as they are: they depend on zod and the core's constants only.
 */
import * as z from 'zod';

/** An instant as the API writes it: ISO 8601 with an offset. */
export const instant = z.string().min(1);

/** A day, `YYYY-MM-DD`. */
export const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** A listing page: `nextCursor` is sealed and present only when there is more. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional() });
}

/** A refusal that names each field: `{errors:[{field, reason}]}`. */
export const fieldError = z.object({ field: z.string(), reason: z.string() });
