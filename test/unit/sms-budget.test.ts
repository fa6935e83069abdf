import { describe, expect, it } from 'vitest';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { renewalPlaceName } from '../../functions/core/catalogue.js';
import type { StageName } from '../../functions/core/model.js';
import { renewalDeadline } from '../../functions/core/planning.js';
import { BUDGET_LENGTH, DEFAULT_RENEWAL_PLACE, renderReminder, SEGMENT_BUDGET, type ReminderInput, type RenderedSms } from '../../functions/core/sms.js';

const reference = loadReferenceData();
/** As long as certificate numbers usually get: 20 characters. */
const NUMBER = '赣虔兴危化经字〔2021〕0001234';
/** Two-digit months and days make the longest dates (2027年12月30日). */
const EXPIRIES = ['2026-12-30', '2027-11-29', '2027-12-31'];

interface Variant {
  stage: StageName;
  late: boolean;
  windowAhead: boolean;
}

const VARIANTS: Variant[] = [
  { stage: 'first', late: false, windowAhead: true },
  { stage: 'first', late: false, windowAhead: false },
  { stage: 'first', late: true, windowAhead: false },
  { stage: 'final', late: false, windowAhead: false },
  { stage: 'final', late: true, windowAhead: false },
  { stage: 'expired', late: true, windowAhead: false },
];

function everyDefaultMessage(): Array<{ code: string; variant: Variant; sms: RenderedSms }> {
  const messages: Array<{ code: string; variant: Variant; sms: RenderedSms }> = [];
  for (const type of reference.catalogue.all()) {
    if (!type.reminders || type.renewalAction === null) continue;
    for (const expiresOn of EXPIRIES) {
      const dates = renewalDeadline(expiresOn, type.renewalWindow, reference.calendar);
      for (const variant of VARIANTS) {
        const input: ReminderInput = {
          typeName: type.smsName,
          number: NUMBER,
          stage: variant.stage,
          expiresOn,
          renewalDeadline: dates.renewalDeadline,
          windowOpens: dates.windowOpens,
          deadlinePassed: variant.late,
          action: type.renewalAction,
          renewalPlace: renewalPlaceName(type.renewalPlace, DEFAULT_RENEWAL_PLACE),
          // Sending on the deadline day means any window has opened; leaving the day out states it.
          ...(variant.windowAhead ? {} : { sendOn: dates.renewalDeadline }),
        };
        messages.push({ code: type.code, variant, sms: renderReminder(input) });
      }
    }
  }
  return messages;
}

function histogram(lengths: number[]): string {
  const counts = new Map<number, number>();
  for (const length of lengths) counts.set(Math.floor(length / 10) * 10, (counts.get(Math.floor(length / 10) * 10) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a - b).map(([from, n]) => `${from}–${from + 9}: ${n}`).join(', ');
}

describe('Budget: default reminder texts', () => {
  it(`fits every type's every stage, late and window variants included, in ${SEGMENT_BUDGET} segments (${BUDGET_LENGTH} characters) with a 20-character number`, () => {
    // Prepare
    expect(Array.from(NUMBER)).toHaveLength(20);

    // Act
    const messages = everyDefaultMessage();

    // Assess
    const byLength = new Map<number, number>();
    for (const { sms } of messages) byLength.set(sms.length, (byLength.get(sms.length) ?? 0) + 1);
    const bySegments = new Map<number, number>();
    for (const { sms } of messages) bySegments.set(sms.segments, (bySegments.get(sms.segments) ?? 0) + 1);
    const longest = messages.reduce((a, b) => (b.sms.length > a.sms.length ? b : a));
    const buckets = [...byLength.entries()].sort(([a], [b]) => a - b);
    console.log(
      [
        `${messages.length} messages (${reference.catalogue.all().filter((t) => t.reminders).length} types with reminders × ${EXPIRIES.length} expiries × ${VARIANTS.length} stage variants)`,
        `segments: ${[...bySegments.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}→${n}`).join(', ')}`,
        `length: min ${buckets[0]?.[0]}, max ${longest.sms.length} (${longest.code} ${longest.variant.stage}${longest.variant.late ? ' late' : ''})`,
        `by ten characters: ${histogram(messages.map(({ sms }) => sms.length))}`,
        `longest: ${longest.sms.body}`,
      ].join('\n'),
    );
    const over = messages.filter(({ sms }) => sms.length > BUDGET_LENGTH).map(({ code, variant, sms }) => `${code} ${variant.stage} ${sms.length}`);
    expect(over).toEqual([]);
    expect(messages.length).toBe(39 * EXPIRIES.length * VARIANTS.length);
  });

  it('leaves out only the types that send no reminders', () => {
    // Act
    const skipped = reference.catalogue.all().filter((t) => !t.reminders || t.renewalAction === null);

    // Assess
    expect(skipped.map((t) => t.code).sort()).toEqual(['farm_machine_registration', 'hr_service_license', 'land_use_planning_permit']);
  });
});
