import { describe, expect, it } from 'vitest';
import { PermanentSendError } from '../../functions/core/errors.js';
import {
  countSegments,
  DEFAULT_SIGNATURE,
  formatChineseDate,
  renderReminder,
  smsLength,
  type ReminderInput,
} from '../../functions/core/sms.js';

const PESTICIDE: ReminderInput = {
  typeNameZh: '农药经营许可证',
  number: 'HX-PEST-0001',
  stage: 'first',
  expiresOn: '2026-12-20',
  renewalDeadline: '2026-11-20',
  windowOpens: null,
  deadlinePassed: false,
  renewalPlace: '兴国县政务服务中心',
};

describe('Function: formatChineseDate', () => {
  it.each([
    ['2026-01-21', '2026年1月21日'],
    ['2026-12-05', '2026年12月5日'],
    ['2027-10-01', '2027年10月1日'],
  ])('writes %s as %s, without zero padding', (iso, expected) => {
    // Act & Assess
    expect(formatChineseDate(iso)).toBe(expected);
  });

  it('throws on a value that is not YYYY-MM-DD', () => {
    // Act & Assess
    expect(() => formatChineseDate('2026/1/21')).toThrow(RangeError);
  });
});

describe('Function: countSegments', () => {
  it.each([
    [1, 1],
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [201, 3],
    [202, 4],
  ])('bills %i characters as %i message(s)', (length, segments) => {
    // Prepare
    const text = '兴'.repeat(length);

    // Act & Assess
    expect(countSegments(text)).toBe(segments);
  });

  it('counts ASCII, punctuation and spaces the same as Chinese characters', () => {
    // Prepare
    const text = 'a, b。c　1'; // a , space b 。 c ideographic-space 1

    // Act & Assess
    expect(smsLength(text)).toBe(8);
    expect(countSegments(`${'x'.repeat(62)}${text}`)).toBe(1);
    expect(countSegments(`${'x'.repeat(63)}${text}`)).toBe(2);
  });

  it('counts a character outside the BMP once', () => {
    // Act & Assess
    expect(smsLength('𠀀a')).toBe(2);
  });
});

describe('Function: renderReminder', () => {
  it('starts with the signature and counts it in the length', () => {
    // Act
    const sms = renderReminder(PESTICIDE);

    // Assess
    expect(sms.body.startsWith(DEFAULT_SIGNATURE)).toBe(true);
    expect(sms.length).toBe(smsLength(sms.body));
    expect(sms.segments).toBe(countSegments(sms.body));
  });

  it('uses a signature it is given', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, signature: '【兴国县农业农村局】' });

    // Assess
    expect(sms.body.startsWith('【兴国县农业农村局】您的')).toBe(true);
  });

  it('asks for renewal before the deadline in the first reminder', () => {
    // Act
    const sms = renderReminder(PESTICIDE);

    // Assess
    expect(sms).toEqual({
      body:
        '【兴国县行政审批局】您的农药经营许可证（编号HX-PEST-0001）将于2026年12月20日到期，' +
        '请于2026年11月20日前申请延续，办理地点：兴国县政务服务中心。',
      length: 85,
      segments: 2,
    });
  });

  it('names the period when the renewal window has not opened yet', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, windowOpens: '2026-09-20', sendOn: '2026-09-01' });

    // Assess
    expect(sms.body).toContain('请于2026年9月20日至2026年11月20日期间申请延续');
  });

  it('leaves out an opening date that is already past on the day of sending', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, windowOpens: '2026-09-20', sendOn: '2026-10-21' });

    // Assess
    expect(sms.body).toContain('请于2026年11月20日前申请延续');
    expect(sms.body).not.toContain('9月20日');
  });

  it('gives the deadline first and the expiry second in the final reminder', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, stage: 'final' });

    // Assess
    expect(sms.body).toBe(
      '【兴国县行政审批局】提醒：您的农药经营许可证（编号HX-PEST-0001）延续申请截止日为2026年11月20日，' +
        '证照将于2026年12月20日到期，请尽快到兴国县政务服务中心办理。',
    );
  });

  it('says the certificate has expired in the expired reminder', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, stage: 'expired', deadlinePassed: true });

    // Assess
    expect(sms.body).toBe(
      '【兴国县行政审批局】您的农药经营许可证（编号HX-PEST-0001）已于2026年12月20日到期，请尽快到兴国县政务服务中心办理延续或换证。',
    );
  });

  it.each(['first', 'final', 'expired'] as const)('names the type, number, expiry and place in the %s reminder', (stage) => {
    // Act
    const { body } = renderReminder({ ...PESTICIDE, stage });

    // Assess
    expect(body).toContain('农药经营许可证');
    expect(body).toContain('HX-PEST-0001');
    expect(body).toContain('2026年12月20日');
    expect(body).toContain('兴国县政务服务中心');
  });

  it.each(['first', 'final'] as const)('states the renewal deadline in the %s reminder', (stage) => {
    // Act
    const { body } = renderReminder({ ...PESTICIDE, stage });

    // Assess
    expect(body).toContain('2026年11月20日');
  });

  it.each(['first', 'final'] as const)(
    'says a passed deadline has passed, instead of asking to apply before it, in a late %s reminder',
    (stage) => {
      // Act
      const { body } = renderReminder({ ...PESTICIDE, stage, deadlinePassed: true });

      // Assess
      expect(body).toContain('延续申请截止日2026年11月20日已过');
      expect(body).toContain('请尽快联系兴国县政务服务中心办理');
      expect(body).not.toContain('前申请延续');
    },
  );

  it('keeps 【】 out of the body so carriers do not read a second signature', () => {
    // Act
    const { body } = renderReminder({ ...PESTICIDE, number: '【2021】001' });

    // Assess
    expect(body.slice(DEFAULT_SIGNATURE.length)).not.toMatch(/[【】]/);
    expect(body).toContain('编号[2021]001');
  });

  it('fits the longest catalogue name and a 64-character number in three segments', () => {
    // Act
    const sms = renderReminder({
      ...PESTICIDE,
      typeNameZh: '建筑施工企业主要负责人、项目负责人和专职安全生产管理人员安全生产考核合格证书（安管人员A/B/C证）',
      number: 'N'.repeat(64),
    });

    // Assess
    expect(sms.segments).toBe(3);
  });

  it('refuses to render more than 500 characters', () => {
    // Act & Assess
    expect(() => renderReminder({ ...PESTICIDE, renewalPlace: '兴'.repeat(450) })).toThrow(PermanentSendError);
  });
});
