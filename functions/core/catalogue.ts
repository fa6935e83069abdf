/**
 * The reference data as the core sees it: the schemas of `data/catalogue.json`,
 * `data/authorities.json` and `data/townships.json`, and the lookups built on them.
 * Pure: the loader in `functions/app/reference-data.ts` reads the files and parses them here.
 */
import * as z from 'zod';
import { ReferenceDataError } from './errors.js';
import type { Authority, CertificateType, RenewalPlace, Township } from './model.js';
import { checkSmsSafeText } from './sms-safe-text.js';

const text = z.string().trim().min(1);
const positiveInt = z.int().positive();
const asciiCode = z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower-case ASCII letters, digits and _');
const confidenceSchema = z.enum(['high', 'medium', 'low']);

const spanSchema = z.union([
  z.strictObject({ days: positiveInt }),
  z.strictObject({ months: positiveInt }),
  z.strictObject({ workingDays: positiveInt }),
]);

/** Free-text qualifiers a window may carry: `appliesTo` says what the window is for when it is not the licence itself. */
const windowRemarks = { note: text.optional(), appliesTo: text.optional() };
const beforeExpiry = z.enum(['atLeastBefore', 'withinBefore']);

export const renewalWindowSchema = z.union([
  z.strictObject({ days: positiveInt, semantics: beforeExpiry, ...windowRemarks }),
  z.strictObject({ months: positiveInt, semantics: beforeExpiry, ...windowRemarks }),
  z.strictObject({ workingDays: positiveInt, semantics: beforeExpiry, ...windowRemarks }),
  z.strictObject({ from: spanSchema, to: spanSchema, semantics: z.literal('between'), ...windowRemarks }),
  z.strictObject({ beforeDeadline: z.literal(true), semantics: z.literal('atLeastBefore'), ...windowRemarks }),
]);

/** The term of a licence. `null` when the law sets none; `validityNote`/`keyDate` then say what date matters. */
export const validitySchema = z
  .strictObject({
    years: positiveInt.optional(),
    /** The issuer sets the term, capped at this. */
    maxYears: positiveInt.optional(),
    kind: text.optional(),
    max: z.strictObject({ years: positiveInt }).optional(),
    alt: z.strictObject({ years: positiveInt, appliesTo: text }).optional(),
    review: z.strictObject({ everyYears: positiveInt }).optional(),
  })
  .refine((v) => (v.years === undefined) !== (v.maxYears === undefined), 'give exactly one of years or maxYears')
  .nullable();

const CONFIDENCE_RANK = { low: 0, medium: 1, high: 2 } as const;

/** The verb a reminder asks for. 延期 is the statutory word for the permits whose rules say 申请延期. */
export const RENEWAL_ACTIONS = ['延续', '延期', '换证', '年检', '校验', '复审', '定期检验', '重新申请'] as const;

/** The short name carried by `{typeName}`: what people call the certificate, so that texts stay within budget. */
export const MAX_SMS_NAME_LENGTH = 12;

const smsNameSchema = text
  .refine((name) => Array.from(name).length <= MAX_SMS_NAME_LENGTH, { message: `an smsName has at most ${MAX_SMS_NAME_LENGTH} characters` })
  .refine((name) => !/[（）()]/u.test(name), { message: 'an smsName carries no parenthetical label' })
  .refine((name) => checkSmsSafeText('place', name) === undefined, { message: 'an smsName must be SMS-safe text (no 【】, links or runs of spaces)' });

/**
 * Where a holder goes: the county's service centre (whose name the deployment sets, see
 * CERTALARM_RENEWAL_PLACE), or the authority's own office when the application does not go
 * through the centre's windows.
 */
export const renewalPlaceSchema = z.discriminatedUnion('at', [
  z.strictObject({ at: z.literal('serviceCentre') }),
  z.strictObject({
    at: z.literal('office'),
    name: text.refine((name) => checkSmsSafeText('place', name) === undefined, {
      message: 'an office name must be SMS-safe text (no 【】, links or runs of spaces; at most 30 characters)',
    }),
  }),
]);

/** Where one fact added for the SMS texts comes from, and how sure it is. */
const basisSchema = z.strictObject({ source: text, confidence: confidenceSchema });

export const certificateTypeSchema = z
  .strictObject({
    /** The public identifier: uploads, URLs and stored records use it, so it never changes. */
    code: asciiCode,
    nameZh: text,
    nameEn: text,
    category: z.enum([
      'construction',
      'market',
      'health',
      'safety',
      'environment',
      'commerce',
      'transport',
      'culture-education',
      'labor',
      'agriculture',
      'farm-machinery',
    ]),
    holderKind: z.enum(['enterprise', 'individual', 'project', 'equipment', 'institution']),
    authority: asciiCode,
    /** The statutory issuer as researched, and whether the Xingguo approval bureau is the front office. */
    issuingAuthority: z.strictObject({ zh: text, en: text, xingguoChannel: text, note: text.optional() }),
    validity: validitySchema,
    validityNote: text.optional(),
    keyDate: text.optional(),
    /** The short name SMS texts use. */
    smsName: smsNameSchema,
    renewalWindow: renewalWindowSchema.nullable(),
    /** What the research says the holder must do, in free text. */
    renewalNote: text,
    /** The verb of the reminder; `null` only for a type with no reminders. */
    renewalAction: z.enum(RENEWAL_ACTIONS).nullable(),
    renewalPlace: renewalPlaceSchema,
    /** `false` for a type with no expiry (registrations, event-driven certificates): nothing is ever planned for it. */
    reminders: z.boolean(),
    legalBasis: z.array(text).min(1),
    source: z.strictObject({ validity: text, renewalWindow: text }),
    basis: z.strictObject({ smsName: basisSchema, renewalAction: basisSchema, renewalPlace: basisSchema, reminders: basisSchema }),
    seasonal: z.boolean(),
    confidence: confidenceSchema,
    confidenceDetail: z.strictObject({ validity: confidenceSchema, renewalWindow: confidenceSchema }),
    confidenceNote: text.optional(),
  })
  .superRefine((type, ctx) => {
    // A reminder without a verb would have to guess one; a type without reminders needs none.
    if (type.reminders && type.renewalAction === null) {
      ctx.addIssue({ code: 'custom', path: ['renewalAction'], message: `a type with reminders needs one of ${RENEWAL_ACTIONS.join(' / ')}` });
    }
    // Staff read reminders built on these facts: a weak fact must say it is weak, in the data itself.
    if (type.confidence === 'low' && type.confidenceNote === undefined) {
      ctx.addIssue({ code: 'custom', path: ['confidenceNote'], message: 'a low-confidence type must explain itself in confidenceNote' });
    }
    const { validity, renewalWindow } = type.confidenceDetail;
    const lower = CONFIDENCE_RANK[validity] <= CONFIDENCE_RANK[renewalWindow] ? validity : renewalWindow;
    if (type.confidence !== lower) {
      ctx.addIssue({ code: 'custom', path: ['confidence'], message: `must be "${lower}", the lower of confidenceDetail.validity and .renewalWindow` });
    }
  });

/** A catalogue entry: the model's `CertificateType` plus the research it rests on. */
export type CatalogueEntry = z.output<typeof certificateTypeSchema>;

export const catalogueFileSchema = z
  .strictObject({
    version: text,
    source: text,
    types: z.array(certificateTypeSchema).min(1),
  })
  .superRefine((file, ctx) => {
    reportDuplicates(file.types, (t) => t.code, ['types'], 'code', ctx);
    reportDuplicates(file.types, (t) => t.nameZh, ['types'], 'nameZh', ctx);
  });
export type CatalogueFile = z.output<typeof catalogueFileSchema>;

export const authoritySchema = z.strictObject({ code: asciiCode, nameZh: text, nameEn: text, note: text.optional() });
export type AuthorityEntry = z.output<typeof authoritySchema>;

export const authoritiesFileSchema = z
  .strictObject({ authorities: z.array(authoritySchema).min(1) })
  .superRefine((file, ctx) => reportDuplicates(file.authorities, (a) => a.code, ['authorities'], 'code', ctx));
export type AuthoritiesFile = z.output<typeof authoritiesFileSchema>;

const divisionCode = z.string().regex(/^\d{9}$/, 'an NBS township code has 9 digits');

export const townshipSchema = z.strictObject({
  code: divisionCode,
  nameZh: text,
  nameEn: text,
  pinyin: text,
  slug: z.string().regex(/^[a-z]+$/, 'a slug is lower-case ASCII letters'),
  kind: z.enum(['town', 'township']),
  aliases: z.array(text),
  note: text.optional(),
});
export type TownshipEntry = z.output<typeof townshipSchema>;

export const townshipsFileSchema = z
  .strictObject({
    county: z.strictObject({
      code: z.string().regex(/^\d{6}$/),
      nameZh: text,
      nameEn: text,
      pinyin: text,
      prefecture: text,
      province: text,
      seat: text,
    }),
    asOf: text,
    townships: z.array(townshipSchema).min(1),
    /** Statistical units with a division code that are not townships (the industrial park). */
    nonTownshipUnits: z.array(z.strictObject({ code: divisionCode, nameZh: text, nameEn: text, note: text.optional() })),
    corrections: z.array(text),
    sources: z.array(text).min(1),
  })
  .superRefine((file, ctx) => {
    reportDuplicates(file.townships, (t) => t.code, ['townships'], 'code', ctx);
    reportDuplicates(file.townships, (t) => t.slug, ['townships'], 'slug', ctx);
  });
export type TownshipsFile = z.output<typeof townshipsFileSchema>;

// Compile-time proof that what the files parse to is what the rest of the service speaks.
const _entryIsCertificateType = (entry: CatalogueEntry): CertificateType => entry;
const _entryIsTownship = (entry: TownshipEntry): Township => entry;
const _entryIsAuthority = (entry: AuthorityEntry): Authority => entry;

/**
 * Parses reference JSON with `schema`, or throws a `ReferenceDataError` that names the source
 * (a file path) and every bad field in it, e.g. `data/townships.json: townships[3].slug: ...`.
 */
export function parseReference<S extends z.ZodType>(schema: S, json: unknown, sourceName: string): z.output<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const more = result.error.issues.length > 10 ? `; and ${result.error.issues.length - 10} more` : '';
  throw new ReferenceDataError(`${sourceName}: ${problems.join('; ')}${more}`, { cause: result.error });
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

function reportDuplicates<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  listPath: string[],
  field: string,
  ctx: z.RefinementCtx,
): void {
  const firstIndex = new Map<string, number>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const first = firstIndex.get(key);
    if (first === undefined) firstIndex.set(key, index);
    else ctx.addIssue({ code: 'custom', path: [...listPath, index, field], message: `"${key}" is already used by ${listPath.join('.')}[${first}]` });
  });
}

/** The certificate types the service knows, by code and by Chinese name. */
export class Catalogue {
  readonly #types: readonly CatalogueEntry[];
  readonly #byCode = new Map<string, CatalogueEntry>();
  readonly #byNameZh = new Map<string, CatalogueEntry>();

  constructor(
    types: readonly CatalogueEntry[],
    /** The data file's `version`, e.g. "2026-11". */
    readonly version = 'unversioned',
  ) {
    for (const type of types) {
      if (this.#byCode.has(type.code)) throw new ReferenceDataError(`certificate type code "${type.code}" is used twice`);
      if (this.#byNameZh.has(type.nameZh)) throw new ReferenceDataError(`certificate type name "${type.nameZh}" is used twice`);
      this.#byCode.set(type.code, type);
      this.#byNameZh.set(type.nameZh, type);
    }
    this.#types = types;
  }

  get(code: string): CatalogueEntry | undefined {
    return this.#byCode.get(code);
  }

  all(): readonly CatalogueEntry[] {
    return this.#types;
  }

  /**
   * A type from what a person typed: its code or its exact Chinese name. Surrounding spaces,
   * full-width ones included, are ignored (String.trim covers U+3000).
   */
  resolve(codeOrChineseName: string): CatalogueEntry | undefined {
    const wanted = codeOrChineseName.trim();
    return this.#byCode.get(wanted) ?? this.#byNameZh.get(wanted);
  }
}

/**
 * The place a reminder names: the type's own office, or the service centre, whose name is the
 * deployment's (CERTALARM_RENEWAL_PLACE, default 兴国县政务服务中心).
 */
export function renewalPlaceName(place: RenewalPlace, serviceCentre: string): string {
  return place.at === 'office' ? place.name : serviceCentre;
}

/** The township-level divisions of the county, found by any name people use for them. */
export class Townships {
  readonly #townships: readonly TownshipEntry[];
  readonly #byKey = new Map<string, TownshipEntry>();

  constructor(townships: readonly TownshipEntry[]) {
    for (const township of townships) {
      const names = [township.code, township.nameZh, township.slug, township.nameEn, township.pinyin, ...township.aliases];
      for (const name of names) {
        const key = matchKey(name);
        const holder = this.#byKey.get(key);
        if (holder !== undefined && holder !== township) {
          throw new ReferenceDataError(`township name "${name}" of ${township.code} also names ${holder.code}`);
        }
        this.#byKey.set(key, township);
      }
    }
    this.#townships = townships;
  }

  all(): readonly TownshipEntry[] {
    return this.#townships;
  }

  /**
   * A township from its code, Chinese name, any alias (冈/岗 spellings, former 乡 names, the
   * short name without 镇/乡), slug, English name or pinyin. Case, spaces (full-width too),
   * full-width letters and pinyin tone marks do not matter.
   */
  resolve(input: string): TownshipEntry | undefined {
    return this.#byKey.get(matchKey(input));
  }
}

/**
 * NFKD folds full-width letters, digits and spaces into ASCII and splits tone marks off pinyin
 * (Liànjiāng → Lianjiang); then marks and whitespace go and case is folded. Chinese characters
 * pass through unchanged, so 冈 and 岗 stay distinct and are matched through the aliases.
 */
function matchKey(name: string): string {
  return name.normalize('NFKD').replace(/[\p{M}\s]/gu, '').toLowerCase();
}
