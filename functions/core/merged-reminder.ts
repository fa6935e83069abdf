/**
 * One SMS for several renewal reminders of one holder that fall due in the same scan:
 * "您名下3本证照即将到期：农药经营许可证（编号…）2026年12月20日到期，在2026年9月21日（含）前办理延续；…".
 * Two templates, in the same model as the stage templates (fixed text and named placeholders): the
 * message, with `{count}` and `{items}`, and one item per certificate, with a reminder's placeholders.
 * Merged only while the whole text fits MERGE_SEGMENT_LIMIT segments; otherwise the reminders go out
 * one by one.
 */
import { PermanentSendError } from './errors.js';
import { checkSmsSafeText } from './sms-safe-text.js';
import { countSegments, DEFAULT_SIGNATURE, MAX_SMS_LENGTH, reminderValues, smsLength, type ReminderInput, type RenderedSms } from './sms.js';
import { fillTemplate, fillTemplateOf, placeholdersOf, templatePlaceholders, TemplateError } from './templates.js';

/** A merged text longer than this many segments is not sent: the reminders go out separately. */
export const MERGE_SEGMENT_LIMIT = 3;
/** A merge never carries more certificates than this (one atomic write records them all). */
export const MAX_MERGED_REMINDERS = 10;

export const MERGED_PLACEHOLDERS = ['count', 'items', 'county', 'helpPhone'] as const;
export type MergedPlaceholder = (typeof MERGED_PLACEHOLDERS)[number];

export interface MergedTemplate {
  /** The whole message: `{count}` certificates, `{items}` (the items joined by `；`), `{county}`, `{helpPhone}`. */
  template: string;
  /** One certificate, with a stage template's placeholders (`{typeName}`, `{number}`, `{expiresOn}`, `{applyBy}` …). */
  itemTemplate: string;
}

export const DEFAULT_MERGED_TEMPLATE: MergedTemplate = {
  template: '您名下{count}本证照即将到期：{items}。{helpPhone}',
  itemTemplate: '{typeName}（编号{number}）{expiresOn}到期，请{applyBy}办理{action}',
};

const ITEM_SEPARATOR = '；';

/** Throws a `TemplateError` a person can act on when either template is not usable. */
export function checkMergedTemplate(template: MergedTemplate): void {
  const used = placeholdersOf(template.template, MERGED_PLACEHOLDERS);
  if (!used.includes('items')) throw new TemplateError('合并短信模板必须包含 {items} / the merged template must contain {items}, where each certificate is listed');
  const itemUsed = templatePlaceholders(template.itemTemplate);
  if (!itemUsed.includes('number')) throw new TemplateError('合并短信的每项必须包含 {number} / each item of the merged template must contain {number}, so the holder knows which certificate');
}

/**
 * The merged text for `items` (each a reminder as it would be rendered alone), behind the signature.
 * The caller sends it only when `segments` is at most MERGE_SEGMENT_LIMIT. A value that could not go
 * into an official SMS is refused, as for a single reminder.
 */
export function renderMergedReminder(input: { signature?: string; county?: string; helpPhone?: string | undefined; template?: MergedTemplate; items: readonly ReminderInput[] }): RenderedSms {
  const template = input.template ?? DEFAULT_MERGED_TEMPLATE;
  checkMergedTemplate(template);
  const signature = input.signature ?? DEFAULT_SIGNATURE;
  const items = input.items.map((item) => {
    for (const [kind, value] of [['certificateNumber', item.number], ['place', item.renewalPlace]] as const) {
      const problem = checkSmsSafeText(kind, value);
      if (problem !== undefined) throw new PermanentSendError(`Reminder for ${JSON.stringify(item.number)} not rendered: its ${kind} ${problem.en}`);
    }
    return fillTemplate(template.itemTemplate, { ...reminderValues(item), helpPhone: '' });
  });
  const values = { count: String(items.length), items: items.join(ITEM_SEPARATOR), county: input.county ?? '', helpPhone: '' };
  let text = `${signature}${fillTemplateOf(template.template, MERGED_PLACEHOLDERS, values)}`;
  if (input.helpPhone !== undefined && input.helpPhone !== '') {
    // As for a single reminder: a help line only where it costs no extra segment.
    const withPhone = `${signature}${fillTemplateOf(template.template, MERGED_PLACEHOLDERS, { ...values, helpPhone: `咨询电话${input.helpPhone}` })}`;
    if (countSegments(withPhone) === countSegments(text)) text = withPhone;
  }
  const length = smsLength(text);
  if (length > MAX_SMS_LENGTH) throw new PermanentSendError(`merged reminder is ${length} characters; carriers refuse more than ${MAX_SMS_LENGTH}`);
  return { body: text, length, segments: countSegments(text) };
}
