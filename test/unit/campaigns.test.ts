import { describe, expect, it } from 'vitest';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { BOOKING_CODE_ALPHABET, BOOKING_CODE_PATTERN, bookingCodeFrom, normaliseBookingCode } from '../../functions/core/campaigns/codes.js';
import type { CampaignDefinition } from '../../functions/core/campaigns/model.js';
import { recipientsOf } from '../../functions/core/campaigns/recipients.js';
import {
  DEFAULT_NOTICE_TEMPLATE,
  MAX_NOTICE_SEGMENTS,
  renderCancelled,
  renderMoved,
  renderNotice,
  renderReminderForBooking,
} from '../../functions/core/campaigns/texts.js';
import { campaignSendInstant, visitInstants } from '../../functions/core/campaigns/timing.js';
import { checkCampaign, checkVisit, checkVisitMove, type VisitContext } from '../../functions/core/campaigns/validation.js';
import { DEFAULT_SEND_WINDOW } from '../../functions/core/model.js';
import { countSegments, DEFAULT_SIGNATURE } from '../../functions/core/sms.js';
import { at } from '../support/fixtures.js';

const reference = loadReferenceData();
const types = (code: string) => reference.catalogue.get(code);
const townships = (input: string) => reference.townships.resolve(input);

const SPRING_2027 = {
  name: '2027年春季农机上门服务',
  types: ['farm_machine_annual_inspection', 'farm_machine_operator_license'],
  season: { from: '2027-01-04', to: '2027-06-30' },
  blackouts: [{ from: '2027-03-25', to: '2027-04-20', reason: '春季插秧' }],
};

function campaign(overrides: Partial<CampaignDefinition> = {}): CampaignDefinition {
  const checked = checkCampaign(SPRING_2027, types);
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return { ...checked.value, ...overrides };
}

function context(overrides: Partial<VisitContext> = {}): VisitContext {
  return { campaign: campaign(), today: '2026-12-01', townships, signature: DEFAULT_SIGNATURE, ...overrides };
}

const VISIT = {
  township: '潋江',
  date: '2027-01-12',
  place: '潋江镇农机服务站',
  slots: [
    { start: '09:00', end: '10:00', capacity: 20 },
    { start: '10:00', end: '11:00', capacity: 20 },
    { start: '14:00', end: '15:00', capacity: 20 },
    { start: '15:00', end: '16:00', capacity: 20 },
  ],
};

function fieldsOf(result: { ok: boolean; errors?: Array<{ field: string; reason: string }> }): string[] {
  return result.ok ? [] : (result.errors ?? []).map((e) => e.field);
}

describe('Function: checkCampaign', () => {
  it('accepts a spring campaign and fills in 14 days for the notice and 1 for the reminder', () => {
    // Act
    const result = checkCampaign(SPRING_2027, types);

    // Assess
    expect(result).toEqual({ ok: true, value: { ...SPRING_2027, noticeDaysBefore: 14, reminderDaysBefore: 1 } });
  });

  it.each([
    ['an unknown type', { types: ['tractor_magic'] }, 'types[0]'],
    ['a season that ends before it starts', { season: { from: '2027-06-30', to: '2027-01-04' } }, 'season.to'],
    ['a blackout that ends before it starts', { blackouts: [{ from: '2027-04-20', to: '2027-03-25', reason: '插秧' }] }, 'blackouts[0].to'],
    ['a reminder no later than the notice', { noticeDaysBefore: 2, reminderDaysBefore: 2 }, 'noticeDaysBefore'],
    ['a template with an unknown placeholder', { noticeTemplate: '{township}{date}{code}{holder}' }, 'noticeTemplate'],
    ['a template without the booking code', { noticeTemplate: '{township}{date}在{place}上门服务' }, 'noticeTemplate'],
    ['a date that does not exist', { season: { from: '2027-02-30', to: '2027-06-30' } }, 'season.from'],
  ])('refuses %s, naming the field in both languages', (_what, change, field) => {
    // Act
    const result = checkCampaign({ ...SPRING_2027, ...change }, types);

    // Assess
    expect(fieldsOf(result)).toContain(field);
    expect(result.ok ? '' : result.errors[0]?.reason).toMatch(/[\u4e00-\u9fff].* \/ [A-Za-z]/u);
  });
});

describe('Function: checkVisit', () => {
  it('finds the township by its alias and numbers the slots in time order', () => {
    // Act
    const result = checkVisit({ ...VISIT, slots: [VISIT.slots[2], VISIT.slots[0]] }, context());

    // Assess
    expect(result).toEqual({
      ok: true,
      value: {
        township: expect.objectContaining({ code: '360732100', nameZh: '潋江镇' }),
        date: '2027-01-12',
        place: '潋江镇农机服务站',
        slots: [
          { number: 1, start: '09:00', end: '10:00', capacity: 20 },
          { number: 2, start: '14:00', end: '15:00', capacity: 20 },
        ],
      },
    });
  });

  it.each([
    ['a date outside the season', { date: '2027-07-01' }, 'date', /outside the season/],
    ['a date inside a blackout', { date: '2027-04-01' }, 'date', /inside the blackout.*春季插秧/],
    ['a date in the past', { date: '2027-01-05' }, 'date', /in the past/],
    ['overlapping slots', { slots: [{ start: '09:00', end: '10:30', capacity: 5 }, { start: '10:00', end: '11:00', capacity: 5 }] }, 'slots[1]', /overlaps/],
    ['a capacity below 1', { slots: [{ start: '09:00', end: '10:00', capacity: 0 }] }, 'slots[0].capacity', /at least 1/],
    ['an unknown township', { township: '不存在镇' }, 'township', /unknown township/],
    ['a place with a link', { place: '详见 t.cn/abc' }, 'place', /place/],
  ])('refuses %s with its reason', (_what, change, field, reason) => {
    // Act
    const result = checkVisit({ ...VISIT, ...change }, context({ today: '2027-01-06' }));

    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toContainEqual({ field, reason: expect.stringMatching(reason) });
  });

  it('refuses a visit whose notice would not fit in three SMS parts', () => {
    // Prepare: twelve slots make the slot list alone longer than a part
    const slots = Array.from({ length: 12 }, (_, i) => ({ start: `${String(8 + i).padStart(2, '0')}:00`, end: `${String(8 + i).padStart(2, '0')}:30`, capacity: 5 }));

    // Act
    const result = checkVisit({ ...VISIT, slots }, context());

    // Assess
    expect(result.ok ? [] : result.errors).toContainEqual({ field: 'slots', reason: expect.stringMatching(/more than 3 SMS parts/) });
  });

  it('checks a move against the season with what the move leaves out kept as it was', () => {
    // Act
    const moved = checkVisitMove({ date: '2027-01-20' }, { date: VISIT.date, place: VISIT.place, slots: VISIT.slots }, { code: '360732100', nameZh: '潋江镇' }, context());
    const intoBlackout = checkVisitMove({ date: '2027-04-01' }, { date: VISIT.date, place: VISIT.place, slots: VISIT.slots }, { code: '360732100', nameZh: '潋江镇' }, context());
    const empty = checkVisitMove({}, { date: VISIT.date, place: VISIT.place, slots: VISIT.slots }, { code: '360732100', nameZh: '潋江镇' }, context());

    // Assess
    expect(moved).toMatchObject({ ok: true, value: { date: '2027-01-20', place: VISIT.place, slots: expect.arrayContaining([expect.objectContaining({ number: 4 })]) } });
    expect(fieldsOf(intoBlackout)).toEqual(['date']);
    expect(empty.ok).toBe(false);
  });
});

describe('Function: campaignSendInstant', () => {
  it('sends the notice at 09:00 Beijing time noticeDaysBefore days before the visit', () => {
    // Act
    const { noticeAt, reminderAt } = visitInstants('2027-01-12', { noticeDaysBefore: 14, reminderDaysBefore: 1 }, DEFAULT_SEND_WINDOW, at('2026-12-01T10:00:00+08:00'));

    // Assess
    expect(noticeAt.toISO()).toBe('2026-12-29T09:00:00.000+08:00');
    expect(reminderAt.toISO()).toBe('2027-01-11T09:00:00.000+08:00');
  });

  it('moves to the first moment of a send window that opens after 09:00', () => {
    // Act
    const instant = campaignSendInstant('2027-01-12', 14, { start: '10:30', end: '18:00' }, at('2026-12-01T10:00:00+08:00'));

    // Assess
    expect(instant.toISO()).toBe('2026-12-29T10:30:00.000+08:00');
  });

  it('sends at the next sendable moment when the planned instant has already passed', () => {
    // Act: a visit created in the evening five days before its date
    const instant = campaignSendInstant('2027-01-12', 14, DEFAULT_SEND_WINDOW, at('2027-01-07T21:00:00+08:00'));

    // Assess
    expect(instant.toISO()).toBe('2027-01-08T09:00:00.000+08:00');
  });
});

describe('Function: bookingCodeFrom', () => {
  it('makes six characters without look-alikes from random bytes', () => {
    // Act
    const codes = Array.from({ length: 256 }, (_, i) => bookingCodeFrom(Uint8Array.from([i, 255 - i, i * 7, i * 13, i * 31, i * 101])));

    // Assess
    for (const code of codes) expect(code).toMatch(BOOKING_CODE_PATTERN);
    expect(codes.join('')).not.toMatch(/[01OIL]/);
    expect(BOOKING_CODE_ALPHABET).toHaveLength(31);
  });

  it('reads a code as people type it, in lower case, full width or with spaces', () => {
    // Act / Assess
    expect(normaliseBookingCode(' abc234 ')).toBe('ABC234');
    expect(normaliseBookingCode('ＡＢＣ２３４')).toBe('ABC234');
    expect(normaliseBookingCode('ABC1O4')).toBeUndefined();
  });
});

describe('Function: renderNotice', () => {
  it('renders the default notice with real values in at most three parts, naming the slots and how to book', () => {
    // Act
    const notice = renderNotice({
      signature: DEFAULT_SIGNATURE,
      template: DEFAULT_NOTICE_TEMPLATE,
      township: '古龙冈镇',
      date: '2027-01-12',
      place: '古龙冈镇农机服务站',
      slots: VISIT.slots.map((s, i) => ({ ...s, number: i + 1 })),
      code: 'K7M3QX',
      count: 3,
    });

    // Assess
    expect(notice.body).toBe(
      '【兴国县行政审批局】古龙冈镇农机上门服务：2027年1月12日在古龙冈镇农机服务站现场办理农机年检、驾驶证换证，您有3项证照需办理。' +
        '场次：1）09:00-10:00；2）10:00-11:00；3）14:00-15:00；4）15:00-16:00。请在2027年1月11日（含）前回复“K7M3QX 场次号”预约（如“K7M3QX 1”），或到乡镇便民服务中心预约。',
    );
    expect(notice.segments).toBeLessThanOrEqual(MAX_NOTICE_SEGMENTS);
    expect(countSegments(notice.body)).toBe(notice.segments);
  });

  it('renders the short texts for booked holders in one or two parts', () => {
    // Prepare
    const booked = { signature: DEFAULT_SIGNATURE, township: '潋江镇', date: '2027-01-20', place: '潋江镇农机服务站', code: 'K7M3QX', slot: { number: 2, start: '10:00', end: '11:00' } };

    // Act
    const reminder = renderReminderForBooking(booked);
    const moved = renderMoved(booked);
    const cancelled = renderCancelled(booked);

    // Assess
    expect(reminder.body).toContain('第2场（10:00-11:00）');
    expect(moved.body).toContain('已改到2027年1月20日');
    expect(cancelled.body).toContain('已取消');
    for (const text of [reminder, moved, cancelled]) expect(text.segments).toBeLessThanOrEqual(2);
  });
});

describe('Function: recipientsOf', () => {
  it('gives each phone one entry with every qualifying certificate, leaving out later expiries and other townships', () => {
    // Prepare
    const certs = [
      { type: 'farm_machine_annual_inspection', number: 'T-1', phone: '+8613900000001', township: '360732100', expiresOn: '2027-02-01' },
      { type: 'farm_machine_operator_license', number: 'L-1', phone: '+8613900000001', township: '360732100', expiresOn: '2026-10-01' },
      { type: 'farm_machine_annual_inspection', number: 'T-2', phone: '+8613900000002', township: '360732100', expiresOn: '2027-07-01' },
      { type: 'farm_machine_annual_inspection', number: 'T-3', phone: '+8613900000003', township: '360732101', expiresOn: '2027-02-01' },
    ];

    // Act
    const recipients = recipientsOf(certs, '360732100', '2027-06-30');

    // Assess
    expect(recipients).toEqual([
      // Each certificate keeps its expiry at invitation time: the report counts a later one as a renewal.
      {
        phone: '+8613900000001',
        certificates: [
          { type: 'farm_machine_annual_inspection', number: 'T-1', expiresOn: '2027-02-01' },
          { type: 'farm_machine_operator_license', number: 'L-1', expiresOn: '2026-10-01' },
        ],
      },
    ]);
  });
});
