/**
 * Reminder texts as templates: fixed text with named placeholders, nothing else. That is the form a
 * domestic SMS provider registers (one template, variables filled per message), so each template
 * here maps one-to-one onto a registered one. Anything conditional — whether a window is still
 * ahead, whether the deadline is the expiry day — is decided while computing a placeholder's value
 * (see `reminderValues` in sms.ts), never inside a template. The signature is not part of a
 * template: the sender puts it in front, as the platforms do.
 */
import type { StageName } from './model.js';

export const PLACEHOLDERS = [
  'holder',
  'typeName',
  'number',
  'expiresOn',
  'deadline',
  'windowOpens',
  'applyBy',
  'action',
  'place',
  'county',
  'helpPhone',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateValues = Readonly<Record<Placeholder, string>>;

/** One stage's texts: the usual one, and the one for a catch-up sent after the deadline passed. */
export interface StageTemplate {
  template: string;
  /** `null` when the stage cannot come after its own deadline (the expired notice always does). */
  lateTemplate: string | null;
}

/** The texts of a rule's stages, by stage name. */
export type StageTemplates = Readonly<Record<StageName, StageTemplate>>;

/**
 * `{applyBy}` carries the whole "by when" phrase, e.g. 在2026年11月20日（含）前 or
 * 在2026年9月20日至2026年11月20日期间, and says 到期日 instead of repeating the expiry date.
 * `{helpPhone}` is empty, or 咨询电话… where it costs no extra segment.
 */
export const DEFAULT_TEMPLATES = {
  first: {
    template: '您的{typeName}（编号{number}）将于{expiresOn}到期，请{applyBy}办理{action}，办理地点：{place}。{helpPhone}',
    lateTemplate: '您的{typeName}（编号{number}）将于{expiresOn}到期，办理{action}的期限{deadline}已过，请尽快联系{place}。{helpPhone}',
  },
  final: {
    template: '提醒：您的{typeName}（编号{number}）将于{expiresOn}到期，请{applyBy}办理{action}，办理地点：{place}。{helpPhone}',
    lateTemplate: '提醒：您的{typeName}（编号{number}）办理{action}的期限{deadline}已过，将于{expiresOn}到期，请尽快联系{place}。{helpPhone}',
  },
  expired: {
    template: '您的{typeName}（编号{number}）已于{expiresOn}到期，请尽快到{place}办理{action}。{helpPhone}',
    lateTemplate: null,
  },
} as const satisfies StageTemplates;

const PLACEHOLDER = /\{([^{}]*)\}/gu;
const KNOWN = new Set<string>(PLACEHOLDERS);

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/**
 * The placeholders `template` uses, in order. Throws a `TemplateError` on an unknown placeholder
 * (a typo would otherwise reach a phone as literal braces) and on 【】, which carriers read as a
 * second signature.
 */
export function templatePlaceholders(template: string): Placeholder[] {
  return placeholdersOf(template, PLACEHOLDERS);
}

/**
 * `templatePlaceholders` for a template with its own set of placeholders (a campaign notice has
 * `{township}`, `{slots}`, `{code}` …): the same model, the same refusals.
 */
export function placeholdersOf<P extends string>(template: string, known: readonly P[]): P[] {
  if (/[【】]/u.test(template)) {
    throw new TemplateError('模板中不能有【】，签名由发送方加在最前面 / a template must not contain 【】: the signature is added in front by the sender');
  }
  const names = (known as readonly string[]) === PLACEHOLDERS ? KNOWN : new Set<string>(known);
  const used: P[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!names.has(name)) {
      throw new TemplateError(
        `模板中有未知占位符 {${name}} / unknown placeholder {${name}} in a template; use one of ${known.map((p) => `{${p}}`).join(' ')}`,
      );
    }
    used.push(name as P);
  }
  return used;
}

/** The template with each placeholder replaced by its value; nothing else is changed. */
export function fillTemplate(template: string, values: TemplateValues): string {
  return fillTemplateOf(template, PLACEHOLDERS, values);
}

/** `fillTemplate` for a template with its own set of placeholders. */
export function fillTemplateOf<P extends string>(template: string, known: readonly P[], values: Readonly<Record<P, string>>): string {
  placeholdersOf(template, known);
  return template.replace(PLACEHOLDER, (_match, name: P) => values[name]);
}
