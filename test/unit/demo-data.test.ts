import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { validateCertificates } from '../../functions/core/certificate.js';
import { demoCertificates } from '../../functions/app/demo-data.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { lookupsFrom } from '../../functions/app/upload-certificates.js';

describe('Function: demoCertificates', () => {
  it('produces a few hundred valid, obviously fictitious certificates across every type with reminders and every township', () => {
    // Prepare
    const reference = loadReferenceData();
    const now = DateTime.fromISO('2026-11-28T10:00:00+08:00', { setZone: true });

    // Act
    const records = demoCertificates({ now, types: reference.catalogue.all(), townships: reference.townships.all() });
    const { valid, rejected } = validateCertificates(records, lookupsFrom(reference));

    // Assess
    expect(rejected).toEqual([]);
    expect(valid).toHaveLength(300);
    const withReminders = reference.catalogue.all().filter((t) => t.reminders);
    expect(withReminders).toHaveLength(39);
    expect(new Set(valid.map((v) => v.certificate.type))).toEqual(new Set(withReminders.map((t) => t.code)));
    expect(new Set(valid.map((v) => v.certificate.township)).size).toBeGreaterThan(20);
    expect(valid.every((v) => v.certificate.holder.name.includes('演示'))).toBe(true);
  });
});
