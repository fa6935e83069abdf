import { describe, expect, it } from 'vitest';
import { lookupsFrom } from '../../functions/app/upload-certificates.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { EARLIEST_DATE, LATEST_DATE, validateCertificates } from '../../functions/core/certificate.js';
import { DEFAULT_SEND_WINDOW, DEFAULT_STAGE_POLICY } from '../../functions/core/model.js';
import { addDays, planReminders } from '../../functions/core/planning.js';
import { at } from '../support/fixtures.js';

const reference = loadReferenceData();

/** Every day from `from` for `count` days. */
function run(from: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => addDays(from, i));
}

/**
 * The edges of the accepted range and the seams inside planning: the last Shanghai daylight-saving
 * year (1991), the end of the cached date strings (2149-06-06 is day 65,535), leap days, and the
 * covered holiday years.
 */
const BOUNDARY_EXPIRIES = [
  ...run(EARLIEST_DATE, 45),
  ...run('1991-12-15', 30),
  '2000-02-29',
  ...run('2026-09-20', 25),
  ...run('2149-06-01', 10),
  '2196-02-29',
  ...run(addDays(LATEST_DATE, -44), 45),
];

const NOWS = [at('1949-10-01T00:00:00+08:00'), at('2026-12-01T10:00:00+08:00'), at('2199-12-31T23:59:59+08:00')];

describe('Property: planning never throws on a record validation accepted', () => {
  it.each(reference.catalogue.all().filter((type) => type.reminders).map((type) => [type.code, type] as const))('plans every boundary expiry of %s', (code, type) => {
    // Prepare: records validation accepts, so nothing out of range reaches planning.
    const records = BOUNDARY_EXPIRIES.map((expiresOn, i) => ({
      type: code,
      number: `RANGE-${i}`,
      holder: { name: '演示边界日期' },
      phone: '13900000001',
      township: '360732100',
      issuedOn: EARLIEST_DATE,
      expiresOn,
    }));
    const { valid, rejected } = validateCertificates(records, lookupsFrom(reference));
    expect(rejected).toEqual([]);

    // Act
    const planned = valid.flatMap(({ certificate }) =>
      NOWS.map((now) =>
        planReminders({
          expiresOn: certificate.expiresOn,
          renewalWindow: type.renewalWindow,
          calendar: reference.calendar,
          policy: DEFAULT_STAGE_POLICY,
          sendWindow: DEFAULT_SEND_WINDOW,
          now,
        }),
      ),
    );

    // Assess: every plan has its stages, each on a real four-digit-year date.
    expect(planned).toHaveLength(BOUNDARY_EXPIRIES.length * NOWS.length);
    for (const plan of planned) {
      expect(plan.stages.length).toBeGreaterThanOrEqual(2);
      for (const stage of plan.stages) expect(stage.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it.each(reference.catalogue.all().filter((type) => !type.reminders).map((type) => [type.code, type] as const))(
    'plans no stage, at any instant, for a certificate of %s, which has no expiry',
    (code, type) => {
      // Prepare
      const records = [{ type: code, number: 'RANGE-NONE', holder: { name: '演示边界日期' }, phone: '13900000001', township: '360732100', issuedOn: EARLIEST_DATE }];
      const { valid, rejected } = validateCertificates(records, lookupsFrom(reference));
      expect(rejected).toEqual([]);

      // Act
      const planned = valid.flatMap(({ certificate }) =>
        NOWS.map((now) =>
          planReminders({
            expiresOn: certificate.expiresOn,
            renewalWindow: type.renewalWindow,
            calendar: reference.calendar,
            policy: DEFAULT_STAGE_POLICY,
            sendWindow: DEFAULT_SEND_WINDOW,
            now,
            reminders: type.reminders,
          }),
        ),
      );

      // Assess
      expect(planned).toEqual(NOWS.map(() => ({ renewalDeadline: null, windowOpens: null, calendarProvisional: false, stages: [] })));
    },
  );
});
