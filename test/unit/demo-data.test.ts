import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { validateCertificates } from '../../functions/core/certificate.js';
import { demoCertificates } from '../../functions/app/demo-data.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { lookupsFrom } from '../../functions/app/upload-certificates.js';

describe('Function: demoCertificates', () => {
  it('produces a few hundred valid, obviously fictitious certificates across every type and every township', () => {
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
    expect(new Set(valid.map((v) => v.certificate.type))).toEqual(new Set(reference.catalogue.all().map((t) => t.code)));
    expect(new Set(valid.map((v) => v.certificate.township)).size).toBeGreaterThan(20);
    expect(valid.every((v) => v.certificate.holder.name.includes('演示'))).toBe(true);
  });

  it('includes a few certificates of each type without an expiry, with no expiry, so they can be seen stored and never reminded of', () => {
    // Prepare
    const reference = loadReferenceData();
    const now = DateTime.fromISO('2026-11-28T10:00:00+08:00', { setZone: true });
    const withoutExpiry = reference.catalogue.all().filter((t) => !t.reminders).map((t) => t.code);

    // Act
    const { valid } = validateCertificates(demoCertificates({ now, types: reference.catalogue.all(), townships: reference.townships.all() }), lookupsFrom(reference));

    // Assess
    const undated = valid.filter((v) => v.certificate.expiresOn === null).map((v) => v.certificate.type);
    expect(undated.length).toBeGreaterThanOrEqual(2 * withoutExpiry.length);
    expect(new Set(undated)).toEqual(new Set(withoutExpiry));
    expect(valid.filter((v) => withoutExpiry.includes(v.certificate.type)).every((v) => v.certificate.expiresOn === null)).toBe(true);
  });
});
