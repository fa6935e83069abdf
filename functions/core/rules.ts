/**
 * Reminder rules: per certificate type, which stages go out when and with which text. A rule is data
 * that operators change (versioned, audited); version 0 is the default rule built here, which says
 * and schedules exactly what the service always did. Pure: checks and diffs, no I/O.
 */
import * as z from 'zod';
import type { CertificateType, IsoInstant, StagePolicy, StageRule } from './model.js';
import { DEFAULT_STAGE_POLICY, STAGE_ANCHORS } from './model.js';
import { defaultStageTimings } from './planning.js';
import { formatChineseDate, MULTI_SEGMENT_PART_LENGTH, smsLength } from './sms.js';
import type { PLACEHOLDERS} from './templates.js';
import { DEFAULT_TEMPLATES, fillTemplate, templatePlaceholders, TemplateError, type StageTemplates, type TemplateValues } from './templates.js';

export const MAX_STAGES = 6;
export const STAGE_NAME = /^[a-z0-9_]{1,20}$/;
export const MIN_OFFSET = -400;
export const MAX_OFFSET = 90;
/** Three billed parts of a long SMS: the most one reminder may cost, signature included. */
export const MAX_RULE_SEGMENTS = 3;
export const MAX_RULE_LENGTH = MAX_RULE_SEGMENTS * MULTI_SEGMENT_PART_LENGTH;
export const MAX_COMMENT_LENGTH = 500;

/** How far a rule change's re-plan has got; kept on the rule, so a crash leaves a resumable trail. */
export interface RuleReplanProgress {
  /** The rule version this re-plan brings plans onto. */
  version: number;
  state: 'running' | 'done';
  /** Certificates read so far, of `total` (counted when the re-plan started). */
  done: number;
  total: number;
  /** Plans written because they changed. */
  replanned: number;
  /** Where to continue (an opaque page cursor). */
  cursor?: string;
  startedAt: IsoInstant;
  finishedAt?: IsoInstant;
}

/** A type's reminder rule as stored. */
export interface ReminderRule {
  type: string;
  /** 0: the default, never changed; each change or restore adds one. */
  version: number;
  enabled: boolean;
  stages: StageRule[];
  changedBy: string | null;
  changedAt: IsoInstant | null;
  comment: string;
  replan?: RuleReplanProgress;
}

/** A rule version in the history; `diff` says what it changed against the version before it. */
export interface RuleVersion extends Omit<ReminderRule, 'replan'> {
  diff: string[];
}

/** Today's three stages and texts, as a rule. */
export function defaultStages(policy: StagePolicy = DEFAULT_STAGE_POLICY): StageRule[] {
  const texts: StageTemplates = DEFAULT_TEMPLATES;
  return defaultStageTimings(policy).map((timing) => {
    const text = texts[timing.name];
    return { ...timing, template: text?.template ?? '', ...(text?.lateTemplate != null ? { lateTemplate: text.lateTemplate } : {}) };
  });
}

export function defaultRule(type: string, policy: StagePolicy = DEFAULT_STAGE_POLICY): ReminderRule {
  return { type, version: 0, enabled: true, stages: defaultStages(policy), changedBy: null, changedAt: null, comment: '默认规则 / default rule' };
}

/** A rule's texts in the form rendering takes them. */
export function stageTemplates(stages: readonly StageRule[]): StageTemplates {
  return Object.fromEntries(stages.map((s) => [s.name, { template: s.template, lateTemplate: s.lateTemplate ?? null }]));
}

/**
 * The stage whose text a catch-up takes when it goes out after the expiry day: the first stage
 * counted forward from the expiry, if the rule has one.
 */
export function afterExpiryStage(stages: readonly StageRule[]): string | null {
  return stages.find((s) => s.from === 'expiry' && (s.days ?? s.workingDays ?? 0) > 0)?.name ?? null;
}

// ---------------------------------------------------------------------------------------------
// Checking a change

export interface FieldError {
  field: string;
  reason: string;
}

const stageSchema = z
  .object({
    name: z.string({ error: '阶段名称必填 / a stage needs a name' }).regex(STAGE_NAME, '阶段名称只能用小写字母、数字和 _，最多 20 个字符 / a stage name is lowercase letters, digits and _, at most 20 characters'),
    from: z.enum(STAGE_ANCHORS, { error: `起算日须为 ${STAGE_ANCHORS.join('、')} 之一 / from must be one of ${STAGE_ANCHORS.join(', ')}` }),
    days: offsetSchema().optional(),
    workingDays: offsetSchema().optional(),
    template: z.string({ error: '模板必填 / a stage needs a template' }).min(1, '模板不能为空 / a template must not be empty'),
    lateTemplate: z.string().min(1, '逾期模板不能为空，不需要时请省略 / lateTemplate must not be empty; leave it out instead').optional(),
  })
  .strict();

function offsetSchema() {
  return z
    .number({ error: '偏移须为整数天数 / an offset is a whole number of days' })
    .int('偏移须为整数天数 / an offset is a whole number of days')
    .min(MIN_OFFSET, `偏移须在 ${MIN_OFFSET} 至 +${MAX_OFFSET} 之间 / an offset must be within ${MIN_OFFSET}…+${MAX_OFFSET} days`)
    .max(MAX_OFFSET, `偏移须在 ${MIN_OFFSET} 至 +${MAX_OFFSET} 之间 / an offset must be within ${MIN_OFFSET}…+${MAX_OFFSET} days`);
}

const commentSchema = z
  .string({ error: '请写明修改原因（comment） / say why in comment' })
  .trim()
  .min(1, '请写明修改原因（comment） / say why in comment: it is kept in the history and the audit log')
  .max(MAX_COMMENT_LENGTH, `修改原因最多 ${MAX_COMMENT_LENGTH} 个字符 / comment has at most ${MAX_COMMENT_LENGTH} characters`);

export const ruleChangeSchema = z
  .object({
    comment: commentSchema,
    enabled: z.boolean({ error: 'enabled 须为 true 或 false / enabled must be true or false' }),
    stages: z.array(z.unknown(), { error: 'stages 须为数组 / stages must be a list' }),
    expectedVersion: z.number({ error: 'expectedVersion 必填（当前版本号，未修改过为 0） / expectedVersion is required: the version you read (0 for the default)' }).int().min(0),
  })
  .strict();

export const rulePreviewSchema = z
  .object({
    enabled: z.boolean({ error: 'enabled 须为 true 或 false / enabled must be true or false' }),
    stages: z.array(z.unknown(), { error: 'stages 须为数组 / stages must be a list' }),
    days: z.number().int().min(1, 'days 须在 1 至 366 之间 / days must be 1–366').max(366, 'days 须在 1 至 366 之间 / days must be 1–366').default(90),
  })
  .strict();

export const ruleRestoreSchema = z
  .object({ version: z.number({ error: 'version 必填 / version is required' }).int().min(0), comment: commentSchema })
  .strict();

export type RuleChange = Omit<z.infer<typeof ruleChangeSchema>, 'stages'> & { stages: StageRule[] };

/** A zod path as people write it: `stages[1].template`. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`), '');
}

export function zodErrors(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): FieldError[] {
  return error.issues.map((issue) => ({ field: fieldPath([...prefix, ...issue.path]), reason: issue.message }));
}

/**
 * The longest values a type's reminder can carry, for the length check: the type's own short name
 * and place, the longest date form (2027年12月28日), a window phrase with two such dates, and a
 * 20-character number and 30-character holder name (real numbers in the catalogue are at most 20
 * characters; the budget test holds the default texts to the same).
 */
export interface LengthContext {
  signature: string;
  county: string;
  typeName: string;
  place: string;
  action: string;
}

export const LONGEST_NUMBER_LENGTH = 20;
export const LONGEST_HOLDER_LENGTH = 30;

export function longestValues(context: LengthContext): TemplateValues {
  const date = formatChineseDate('2027-12-28');
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    holder: '兴'.repeat(LONGEST_HOLDER_LENGTH),
    typeName: context.typeName,
    number: 'X'.repeat(LONGEST_NUMBER_LENGTH),
    expiresOn: date,
    deadline: date,
    windowOpens: date,
    applyBy: `在${date}至${date}期间`,
    action: context.action,
    place: context.place,
    county: context.county,
    // A help line is only appended where it costs no extra segment, so it never makes a text too long.
    helpPhone: '',
  };
  return values;
}

/**
 * Checks a rule's stages; every problem is named by its field path. Structure first (zod), then what
 * zod cannot say: offsets in exactly one unit, unique names, placeholders and the rendered length.
 */
export function checkStages(rawStages: readonly unknown[], enabled: boolean, context: LengthContext): { stages: StageRule[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (enabled && rawStages.length === 0) errors.push({ field: 'stages', reason: '启用的规则至少要有一个阶段 / an enabled rule needs at least one stage' });
  if (rawStages.length > MAX_STAGES) errors.push({ field: 'stages', reason: `最多 ${MAX_STAGES} 个阶段（现有 ${rawStages.length} 个） / at most ${MAX_STAGES} stages (${rawStages.length} given)` });
  const stages: StageRule[] = [];
  const names = new Map<string, number>();
  const values = longestValues(context);
  rawStages.forEach((raw, index) => {
    const at = (field: string) => `stages[${index}]${field === '' ? '' : `.${field}`}`;
    const parsed = stageSchema.safeParse(raw);
    if (!parsed.success) errors.push(...zodErrors(parsed.error, ['stages', index]));
    // What zod could not accept is named above; the checks below still look at every field they can read.
    const s = parsed.success ? parsed.data : looseStage(raw);
    if (parsed.success && (s.days === undefined) === (s.workingDays === undefined)) {
      errors.push({ field: at('days'), reason: '请给出 days 或 workingDays 其中之一 / give exactly one of days and workingDays' });
    }
    if (s.name !== undefined) {
      const earlier = names.get(s.name);
      if (earlier !== undefined) {
        errors.push({ field: at('name'), reason: `阶段名称 ${s.name} 与 stages[${earlier}] 重复 / stage name ${s.name} repeats stages[${earlier}]` });
      } else {
        names.set(s.name, index);
      }
    }
    for (const field of ['template', 'lateTemplate'] as const) {
      const template = s[field];
      if (template === undefined || template === '') continue;
      const problem = templateProblem(template, context.signature, values);
      if (problem !== undefined) errors.push({ field: at(field), reason: problem });
    }
    if (!parsed.success || s.name === undefined || s.from === undefined || s.template === undefined) return;
    const timing = s.workingDays !== undefined ? { workingDays: s.workingDays } : { days: s.days ?? 0 };
    stages.push({ name: s.name, from: s.from, ...timing, template: s.template, ...(s.lateTemplate !== undefined ? { lateTemplate: s.lateTemplate } : {}) });
  });
  return { stages, errors };
}

/** The fields of a stage zod refused that are still of the right kind, for the remaining checks. */
function looseStage(raw: unknown): Partial<z.infer<typeof stageSchema>> {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { name: text(r.name), template: text(r.template), lateTemplate: text(r.lateTemplate) };
}

function templateProblem(template: string, signature: string, values: TemplateValues): string | undefined {
  try {
    templatePlaceholders(template);
  } catch (error) {
    if (error instanceof TemplateError) return error.message;
    throw error;
  }
  const length = smsLength(`${signature}${fillTemplate(template, values)}`);
  if (length > MAX_RULE_LENGTH) {
    return (
      `以该类型最长的实际取值渲染后共 ${length} 个字符（含签名），超过 ${MAX_RULE_SEGMENTS} 条短信的上限 ${MAX_RULE_LENGTH} 个字符 / ` +
      `renders to ${length} characters with the longest real values of the type, signature included: more than ${MAX_RULE_SEGMENTS} SMS segments (${MAX_RULE_LENGTH} characters)`
    );
  }
  return undefined;
}

export function lengthContextFor(type: CertificateType, settings: { signature: string; county: string }, place: string): LengthContext {
  return { signature: settings.signature, county: settings.county, typeName: type.smsName, place, action: type.renewalAction ?? '' };
}

// ---------------------------------------------------------------------------------------------
// Differences between versions

function offsetText(s: StageRule): string {
  const n = s.workingDays ?? s.days ?? 0;
  return `${s.from} ${n >= 0 ? '+' : ''}${n} ${s.workingDays !== undefined ? 'workingDays' : 'days'}`;
}

/** What changed from `before` to `after`, one line per change, for the history. */
export function ruleDiff(before: Pick<ReminderRule, 'enabled' | 'stages'>, after: Pick<ReminderRule, 'enabled' | 'stages'>): string[] {
  const lines: string[] = [];
  if (before.enabled !== after.enabled) lines.push(`enabled: ${before.enabled} → ${after.enabled}`);
  const old = new Map(before.stages.map((s) => [s.name, s]));
  const next = new Map(after.stages.map((s) => [s.name, s]));
  for (const s of after.stages) {
    const was = old.get(s.name);
    if (was === undefined) {
      lines.push(`+ ${s.name}: ${offsetText(s)}`);
      continue;
    }
    if (offsetText(was) !== offsetText(s)) lines.push(`~ ${s.name}: ${offsetText(was)} → ${offsetText(s)}`);
    if (was.template !== s.template) lines.push(`~ ${s.name}.template`);
    if ((was.lateTemplate ?? '') !== (s.lateTemplate ?? '')) lines.push(`~ ${s.name}.lateTemplate`);
  }
  for (const s of before.stages) if (!next.has(s.name)) lines.push(`- ${s.name}`);
  const order = (stages: readonly StageRule[]) => stages.map((s) => s.name).filter((n) => old.has(n) && next.has(n)).join(',');
  if (order(before.stages) !== order(after.stages)) lines.push(`order: ${before.stages.map((s) => s.name).join(', ')} → ${after.stages.map((s) => s.name).join(', ')}`);
  return lines;
}
