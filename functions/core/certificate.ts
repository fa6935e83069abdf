/**
 * The boundary schema for one uploaded certificate record, and batch validation that reports
 * every problem of every bad record (row index, field path, a reason in Chinese and English)
 * while good records pass through.
 */
import * as z from 'zod';
import type { Certificate, CertificateType, IsoDate, Rejection, Township } from './model.js';
import { daysInMonth } from './civil-days.js';
import { validateHolderId } from './holder-id.js';
import { normaliseMainlandMobile } from './phone.js';
import { checkSmsSafeText, type SmsTextKind } from './sms-safe-text.js';

/** The reference-data lookups validation needs; the catalogue module (or a test double) provides them. */
export interface CertificateLookups {
  /** By code or Chinese name. */
  resolveType(input: string): CertificateType | undefined;
  /** By code, name or alias. */
  resolveTownship(input: string): Township | undefined;
  /** The type an unknown type text most likely meant, to suggest in the error; none when nothing is close. */
  closestType?(input: string): CertificateType | undefined;
}

export const MAX_NUMBER_LENGTH = 64;

/**
 * The dates a record may carry. No certificate of the People's Republic predates its founding, and an
 * expiry beyond 2199 is a typing error (9999-12-31 for "never"), not a date to plan reminders for:
 * planning steps past the expiry, and the service must never meet a year it cannot write.
 */
export const EARLIEST_DATE = '1949-10-01';
export const LATEST_DATE = '2199-12-31';
export const MAX_HOLDER_NAME_LENGTH = 200;

/** Field name used in a rejection when the record itself is not an object. */
export const RECORD_FIELD = 'record';

interface Label {
  zh: string;
  en: string;
}

const LABELS = {
  type: { zh: '证照类型', en: 'certificate type' },
  number: { zh: '证照编号', en: 'certificate number' },
  holderName: { zh: '持证人名称', en: 'holder name' },
  holderId: { zh: '持证人证件号码', en: 'holder identifier' },
  phone: { zh: '手机号', en: 'phone' },
  township: { zh: '乡镇', en: 'township' },
  issuedOn: { zh: '发证日期', en: 'issue date' },
  expiresOn: { zh: '到期日期', en: 'expiry date' },
} as const satisfies Record<string, Label>;

type Ctx = z.core.$RefinementCtx<unknown>;

function issue(ctx: Ctx, input: unknown, zh: string, en: string): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message: `${zh} / ${en}`, input });
  return z.NEVER;
}

/** Echo a value inside a message without letting a pasted essay flood the report. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

// Control, format, private-use, unassigned and surrogate code points, and line/paragraph separators:
// none of them can be printed on a certificate, and most arrive from copy/paste out of Word or Excel.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;

/** A required, trimmed, printable text of at most `max` characters (code points). */
function requiredText(value: unknown, ctx: Ctx, label: Label, max: number): string {
  if (value === undefined || value === null) {
    return issue(ctx, value, `缺少${label.zh}，请填写`, `${label.en} is missing; fill it in`);
  }
  if (typeof value !== 'string') {
    return issue(ctx, value, `${label.zh}应为文本，实际为 ${describeType(value)}`, `${label.en} must be text, got ${describeType(value)}`);
  }
  const text = value.trim();
  if (text.length === 0) {
    return issue(ctx, value, `${label.zh}不能为空白，请填写`, `${label.en} is blank; fill it in`);
  }
  // `length` counts UTF-16 units, never fewer than code points, so only long values pay for the exact count.
  if (text.length > max) {
    const count = Array.from(text).length;
    if (count > max) {
      return issue(
        ctx,
        value,
        `${label.zh}过长（${count} 个字符，最多 ${max} 个），请删减`,
        `${label.en} is too long (${count} characters, at most ${max}); shorten it`,
      );
    }
  }
  const bad = UNPRINTABLE.exec(text);
  if (bad) {
    const position = Array.from(text.slice(0, bad.index)).length + 1;
    const codePoint = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return issue(
      ctx,
      value,
      `${label.zh}第 ${position} 个字符是不可打印的控制字符（${codePoint}），请删除`,
      `${label.en} has an unprintable character at position ${position} (${codePoint}); remove it`,
    );
  }
  return text;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Common near-misses (2026/1/5, 2026.01.05, 2026-1-5) get a rewritten suggestion in the message. */
const LOOSE_DATE = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/;

function isoDate(value: unknown, ctx: Ctx, label: Label): IsoDate {
  if (value === undefined || value === null) {
    return issue(ctx, value, `缺少${label.zh}，请按 YYYY-MM-DD 填写`, `${label.en} is missing; give it as YYYY-MM-DD`);
  }
  if (typeof value !== 'string') {
    return issue(
      ctx,
      value,
      `${label.zh}应为 YYYY-MM-DD 格式的文本，实际为 ${describeType(value)}`,
      `${label.en} must be text in YYYY-MM-DD form, got ${describeType(value)}`,
    );
  }
  const text = value.trim();
  const match = ISO_DATE.exec(text);
  if (!match) {
    const loose = LOOSE_DATE.exec(text);
    const suggestion = loose ? `${loose[1]}-${loose[2]!.padStart(2, '0')}-${loose[3]!.padStart(2, '0')}` : '2026-12-20';
    return issue(
      ctx,
      value,
      `${label.zh} ${quote(text)} 不是 YYYY-MM-DD 格式，请写成如 ${suggestion}`,
      `${label.en} ${quote(text)} is not in YYYY-MM-DD form; write it like ${suggestion}`,
    );
  }
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(match[1]), month)) {
    return issue(ctx, value, `${label.zh} ${quote(text)} 不是存在的日期，请核对`, `${label.en} ${quote(text)} is not a date that exists; check it`);
  }
  // ISO dates compare correctly as strings.
  if (text < EARLIEST_DATE) {
    return issue(ctx, value, `${label.zh} ${quote(text)} 早于 ${EARLIEST_DATE}，请核对`, `${label.en} ${quote(text)} is before ${EARLIEST_DATE}; check it`);
  }
  if (text > LATEST_DATE) {
    return issue(ctx, value, `${label.zh} ${quote(text)} 晚于 ${LATEST_DATE}，请核对`, `${label.en} ${quote(text)} is after ${LATEST_DATE}; check it`);
  }
  return text;
}

/**
 * The expiry of a type that has none: absent, null and blank all say so, and the certificate is
 * stored without one. A date is refused rather than dropped: whoever typed it believes the
 * certificate runs out then, and certalarm will never remind of it.
 */
function noExpiry(value: unknown, ctx: Ctx, type: CertificateType): null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
  return issue(
    ctx,
    value,
    `${type.nameZh}没有有效期，不能填写到期日期，请留空；本服务不为此类证照发送提醒`,
    `${type.code} (${type.nameZh}) has no expiry, so it takes no expiry date: leave it empty; certalarm sends no reminders for this type`,
  );
}

/** A required text that goes into SMS texts as it is, so it must have the strict form `kind` demands. */
function smsText(value: unknown, ctx: Ctx, label: Label, kind: SmsTextKind, max: number): string {
  const text = requiredText(value, ctx, label, max);
  if (typeof text !== 'string') return text;
  const problem = checkSmsSafeText(kind, text);
  return problem === undefined ? text : issue(ctx, value, `${label.zh}${problem.zh}`, `${label.en} ${problem.en}`);
}

function holderId(value: unknown, ctx: Ctx): string | undefined {
  // Optional: absent, null and blank all mean "not given".
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    return issue(
      ctx,
      value,
      `${LABELS.holderId.zh}应为文本，实际为 ${describeType(value)}`,
      `${LABELS.holderId.en} must be text, got ${describeType(value)}`,
    );
  }
  if (value.trim().length === 0) return undefined;
  const result = validateHolderId(value);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: result.reason, input: value });
    return z.NEVER;
  }
  return result.value;
}

function phone(value: unknown, ctx: Ctx): string {
  // A JSON number is refused rather than read: 1.39e10 is a valid number but not the phone anyone typed.
  // Spreadsheet cells are repaired to text before they get here (spreadsheet-rows.ts), where a number is what Excel does.
  if (typeof value === 'number') {
    return issue(ctx, value, `${LABELS.phone.zh}应为文本（加引号），实际为 number`, `${LABELS.phone.en} must be text (in quotes), got number`);
  }
  const text = requiredText(value, ctx, LABELS.phone, 40);
  if (typeof text !== 'string') return text;
  const result = normaliseMainlandMobile(text);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: result.reason, input: value });
    return z.NEVER;
  }
  return result.e164;
}

function notAnObject(label: Label) {
  return (iss: { input?: unknown }) =>
    iss.input === undefined
      ? `缺少${label.zh} / ${label.en} is missing`
      : `${label.zh}应为对象，实际为 ${describeType(iss.input)} / ${label.en} must be an object, got ${describeType(iss.input)}`;
}

/**
 * The schema for one record. Build it once per batch: it closes over the lookups, and every field
 * reports its own problem so that one parse yields all of a record's issues.
 *
 * A record of a type without an expiry (`reminders: false`: a registration, an event-driven
 * certificate) is read by the schema built with that type as `withoutExpiry`: there `expiresOn` must
 * be left empty and the certificate is stored with none. Every other record needs its expiry.
 */
export function makeCertificateSchema(lookups: CertificateLookups, withoutExpiry?: CertificateType): z.ZodType<Certificate> {
  const holder = z
    .object(
      {
        name: z.unknown().transform((v, ctx) => smsText(v, ctx, LABELS.holderName, 'holderName', MAX_HOLDER_NAME_LENGTH)),
        id: z.unknown().transform(holderId).optional(),
      },
      { error: notAnObject({ zh: '持证人信息（holder: {name, id}）', en: 'holder ({name, id})' }) },
    )
    // Leave `id` out rather than undefined: stores and serialisers treat the two differently.
    .transform(({ name, id }) => (id === undefined ? { name } : { name, id }));

  return z
    .object(
      {
        type: z.unknown().transform((v, ctx): string => {
          const text = requiredText(v, ctx, LABELS.type, 200);
          if (typeof text !== 'string') return text;
          const type = lookups.resolveType(text);
          if (type) return type.code;
          const closest = lookups.closestType?.(text);
          return issue(
            ctx,
            v,
            `未知的证照类型 ${quote(text)}；请填写证照目录中的 code 或中文名称（certalarm catalogue 或 GET /v1/catalogue）` +
              (closest ? `，最接近的是 ${closest.nameZh}（${closest.code}）` : ''),
            `unknown certificate type ${quote(text)}; use the code or the Chinese name from the catalogue (certalarm catalogue, or GET /v1/catalogue)` +
              (closest ? `; closest match: ${closest.code} (${closest.nameZh})` : ''),
          );
        }),
        number: z.unknown().transform((v, ctx) => smsText(v, ctx, LABELS.number, 'certificateNumber', MAX_NUMBER_LENGTH)),
        holder,
        phone: z.unknown().transform(phone),
        township: z.unknown().transform((v, ctx): string => {
          const text = requiredText(v, ctx, LABELS.township, 200);
          if (typeof text !== 'string') return text;
          const township = lookups.resolveTownship(text);
          if (township) return township.code;
          return issue(
            ctx,
            v,
            `未知的乡镇 ${quote(text)}；请填写乡镇代码（如 360732100）或乡镇名称`,
            `unknown township ${quote(text)}; use a township code (e.g. 360732100) or its name`,
          );
        }),
        issuedOn: z.unknown().transform((v, ctx) => isoDate(v, ctx, LABELS.issuedOn)),
        // Optional only where it may be left out: zod refuses an absent key whose schema does not say so.
        expiresOn:
          withoutExpiry === undefined
            ? z.unknown().transform((v, ctx): IsoDate | null => isoDate(v, ctx, LABELS.expiresOn))
            : z
                .unknown()
                .optional()
                .transform((v, ctx): IsoDate | null => noExpiry(v, ctx, withoutExpiry)),
      },
      { error: notAnObject({ zh: '记录', en: 'record' }) },
    )
    .superRefine(
      (record, ctx) => {
        // ISO dates compare correctly as strings. Equal is allowed: a one-day certificate exists.
        if (record.expiresOn !== null && record.expiresOn < record.issuedOn) {
          ctx.addIssue({
            code: 'custom',
            path: ['expiresOn'],
            input: record.expiresOn,
            message:
              `到期日期 ${record.expiresOn} 早于发证日期 ${record.issuedOn}，请核对这两个日期 / ` +
              `expiry date ${record.expiresOn} is before issue date ${record.issuedOn}; check both dates`,
          });
        }
      },
      // Other fields' problems must not hide this one, so run whenever both dates parsed.
      { when: (payload) => bothDatesParsed(payload.value) },
    );
}

function bothDatesParsed(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { issuedOn, expiresOn } = value as { issuedOn?: unknown; expiresOn?: unknown };
  return typeof issuedOn === 'string' && typeof expiresOn === 'string' && ISO_DATE.test(issuedOn) && ISO_DATE.test(expiresOn);
}

export interface ValidationReport {
  valid: Array<{ index: number; certificate: Certificate }>;
  rejected: Rejection[];
}

/** The schemas of one catalogue: one for records with an expiry, one per type without. */
class SchemaSet {
  private readonly dated: z.ZodType<Certificate>;
  private readonly undated = new Map<string, z.ZodType<Certificate>>();
  constructor(private readonly lookups: CertificateLookups) {
    this.dated = makeCertificateSchema(lookups);
  }

  /** The schema a record is judged by, chosen by its type (a type that does not resolve is reported by the dated one). */
  forRecord(record: unknown): z.ZodType<Certificate> {
    const typeInput = typeof record === 'object' && record !== null ? (record as { type?: unknown }).type : undefined;
    if (typeof typeInput !== 'string') return this.dated;
    const type = this.lookups.resolveType(typeInput.trim());
    if (type === undefined || type.reminders) return this.dated;
    let schema = this.undated.get(type.code);
    if (schema === undefined) {
      schema = makeCertificateSchema(this.lookups, type);
      this.undated.set(type.code, schema);
    }
    return schema;
  }
}

// One set per lookups object: a batch of hundreds of thousands of records must not rebuild its schemas,
// and neither should the next batch against the same catalogue.
const schemaSets = new WeakMap<CertificateLookups, SchemaSet>();

function schemasFor(lookups: CertificateLookups): SchemaSet {
  let set = schemaSets.get(lookups);
  if (!set) {
    set = new SchemaSet(lookups);
    schemaSets.set(lookups, set);
  }
  return set;
}

/**
 * Validates a batch. Every problem of every bad record becomes one `Rejection` (index in `records`,
 * dotted field path, reason). A second record with the same type and number as an earlier one is
 * rejected on `number`, naming the earlier index.
 */
export function validateCertificates(records: readonly unknown[], lookups: CertificateLookups): ValidationReport {
  const schemas = schemasFor(lookups);
  const valid: ValidationReport['valid'] = [];
  const rejected: Rejection[] = [];
  const firstIndexByKey = new Map<string, number>();

  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    const parsed = schemas.forRecord(record).safeParse(record);
    let problems = false;
    if (!parsed.success) {
      problems = true;
      for (const zodIssue of parsed.error.issues) {
        rejected.push({ index, field: fieldOf(zodIssue.path), reason: zodIssue.message });
      }
    }

    // Duplicates are checked even on records with other problems, so one upload reports them all.
    const key = parsed.success ? duplicateKey(parsed.data.type, parsed.data.number) : keyOfInvalid(record, lookups);
    if (key !== undefined) {
      const first = firstIndexByKey.get(key);
      if (first === undefined) {
        firstIndexByKey.set(key, index);
      } else {
        problems = true;
        rejected.push({
          index,
          field: 'number',
          reason:
            `与第 ${first} 条记录（从 0 起计）的证照类型和编号相同，同一批次中每张证照只能出现一次 / ` +
            `same certificate type and number as record ${first} (0-based); each certificate may appear only once per batch`,
        });
      }
    }

    if (!problems && parsed.success) valid.push({ index, certificate: parsed.data });
  }
  return { valid, rejected };
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? RECORD_FIELD : path.map(String).join('.');
}

function duplicateKey(type: string, number: string): string {
  // NUL cannot occur in a type code or a (printable) number, so the key is unambiguous.
  return `${type}\u0000${number}`;
}

/** The duplicate key of a record that failed elsewhere, if its type and number are themselves fine. */
function keyOfInvalid(record: unknown, lookups: CertificateLookups): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const { type, number } = record as { type?: unknown; number?: unknown };
  if (typeof type !== 'string' || typeof number !== 'string') return undefined;
  const resolved = lookups.resolveType(type.trim());
  const trimmed = number.trim();
  if (!resolved || trimmed.length === 0 || trimmed.length > MAX_NUMBER_LENGTH || checkSmsSafeText('certificateNumber', trimmed) !== undefined) {
    return undefined;
  }
  return duplicateKey(resolved.code, trimmed);
}
