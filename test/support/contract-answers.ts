/** Holding a running service's answers to the HTTP contracts (functions/contracts/api/). */
import { expect } from 'vitest';
import type * as z from 'zod';

/**
 * The answer has the status asked for, every field its contract requires with the right types, and no field
 * the contract does not name: zod drops unknown keys, so a parse that changes nothing means none were there.
 */
export async function answersWith<C extends z.ZodType>(contract: C, answer: Promise<{ status: number; body: unknown }>, status = 200): Promise<z.infer<C>> {
  const { status: got, body } = await answer;
  expect({ status: got, body }).toEqual({ status, body: expect.anything() as unknown });
  const parsed = contract.safeParse(body);
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  expect(parsed.data).toEqual(body);
  return parsed.data as z.infer<C>;
}
