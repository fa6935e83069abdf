import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { validateCertificates } from '../../functions/core/certificate.js';
import { DEMO_CAMPAIGN, DEMO_CAMPAIGN_VISITS, demoCertificates } from '../../functions/app/demo-data.js';
import { checkCampaign, checkVisit } from '../../functions/core/campaigns/validation.js';
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

describe('Demo: the spring 2027 farm-machinery campaign', () => {
  const reference = loadReferenceData();
  const now = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
  const lookups = lookupsFrom(reference);

  it('is a valid campaign of both farm-machine types over the slack season, keeping the Spring Festival free', () => {
    // Act
    const checked = checkCampaign(DEMO_CAMPAIGN, (code) => reference.catalogue.get(code));

    // Assess
    expect(checked).toMatchObject({ ok: true, value: { types: ['farm_machine_annual_inspection', 'farm_machine_operator_license'], season: { from: '2027-01-04', to: '2027-02-28' } } });
    expect(DEMO_CAMPAIGN.blackouts).toEqual([{ from: '2027-02-05', to: '2027-02-13', reason: '春节假期' }]);
  });

  it('visits four different townships on consecutive days, each at a named place with 2–4 slots the visit check accepts', () => {
    // Prepare
    const checked = checkCampaign(DEMO_CAMPAIGN, (code) => reference.catalogue.get(code));
    if (!checked.ok) throw new Error('demo campaign invalid');
    const context = { campaign: checked.value, today: '2026-12-01', townships: (input: string) => reference.townships.resolve(input), signature: '【兴国县行政审批局】' };

    // Act
    const visits = DEMO_CAMPAIGN_VISITS.map((v) => checkVisit(v, context));

    // Assess
    expect(visits.every((v) => v.ok)).toBe(true);
    expect(new Set(DEMO_CAMPAIGN_VISITS.map((v) => v.township)).size).toBe(4);
    expect(DEMO_CAMPAIGN_VISITS.map((v) => v.date)).toEqual(['2027-01-18', '2027-01-19', '2027-01-20', '2027-01-21']);
    expect(DEMO_CAMPAIGN_VISITS.every((v) => v.slots.length >= 2 && v.slots.length <= 4 && /农机|村委会/.test(v.place))).toBe(true);
  });

  it('has farm-machine holders in every visited township, most of them due for the campaign, inside the 300 demo certificates', () => {
    // Act
    const all = validateCertificates(demoCertificates({ now, types: reference.catalogue.all(), townships: reference.townships.all() }), lookups);
    const farm = all.valid.map((v) => v.certificate).filter((c) => c.number.startsWith('DEMO-NJ'));
    const routeCodes = DEMO_CAMPAIGN_VISITS.map((v) => reference.townships.resolve(v.township)?.code);

    // Assess
    expect(all.rejected).toEqual([]);
    expect(all.valid).toHaveLength(300);
    for (const code of routeCodes) {
      const due = farm.filter((c) => c.township === code && c.expiresOn !== null && c.expiresOn <= DEMO_CAMPAIGN.season.to);
      expect(new Set(due.map((c) => c.phone)).size).toBe(6);
    }
    expect(farm.every((c) => c.holder.name.includes('演示') && c.phone.startsWith('+86139000050'))).toBe(true);
    expect(new Set(farm.map((c) => c.type))).toEqual(new Set(DEMO_CAMPAIGN.types));
  });
});
