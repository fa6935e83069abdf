import { describe, expect, it } from 'vitest';
import { PermanentSendError } from '../../functions/core/errors.js';
import { DEFAULT_TEMPLATES } from '../../functions/core/templates.js';
import {
  BUDGET_LENGTH,
  countSegments,
  DEFAULT_SIGNATURE,
  formatChineseDate,
  renderReminder,
  smsLength,
  type ReminderInput,
} from '../../functions/core/sms.js';

const PESTICIDE: ReminderInput = {
  typeName: '农药经营许可证',
  number: 'HX-PEST-0001',
  stage: 'first',
  expiresOn: '2026-12-20',
  renewalDeadline: '2026-11-20',
  windowOpens: null,
  deadlinePassed: false,
  action: '延续',
  renewalPlace: '兴国县政务服务中心',
};

/** An annual farm-machine inspection: no window, so the deadline is the expiry itself. */
const INSPECTION: ReminderInput = {
  ...PESTICIDE,
  typeName: '农机年度安全技术检验',
  number: 'NJ-2026-0001',
  expiresOn: '2026-12-30',
  renewalDeadline: '2026-12-30',
  action: '年检',
  renewalPlace: '兴国县农机安全监理站',
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

  it('asks for the type\'s action by a deadline that includes its own day in the first reminder', () => {
    // Act
    const sms = renderReminder(PESTICIDE);

    // Assess
    expect(sms).toEqual({
      body:
        '【兴国县行政审批局】您的农药经营许可证（编号HX-PEST-0001）将于2026年12月20日到期，' +
        '请在2026年11月20日（含）前办理延续，办理地点：兴国县政务服务中心。',
      length: 88,
      segments: 2,
    });
  });

  it('says the date once when the deadline is the expiry, with the inspection verb and the inspection office', () => {
    // Act
    const { body } = renderReminder(INSPECTION);

    // Assess
    expect(body).toBe(
      '【兴国县行政审批局】您的农机年度安全技术检验（编号NJ-2026-0001）将于2026年12月30日到期，' +
        '请在到期日（含）前办理年检，办理地点：兴国县农机安全监理站。',
    );
    expect(body.split('2026年12月30日')).toHaveLength(2);
    expect(body).not.toMatch(/延续|政务服务中心/);
  });

  it('names the period when the renewal window has not opened yet', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, windowOpens: '2026-09-20', sendOn: '2026-09-01' });

    // Assess
    expect(sms.body).toContain('请在2026年9月20日至2026年11月20日期间办理延续');
  });

  it('names the period up to the expiry day when the window runs to the expiry', () => {
    // Act
    const sms = renderReminder({ ...INSPECTION, action: '换证', windowOpens: '2026-10-01', sendOn: '2026-09-01' });

    // Assess
    expect(sms.body).toContain('请在2026年10月1日至到期日期间办理换证');
  });

  it('leaves out an opening date that is already past on the day of sending', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, windowOpens: '2026-09-20', sendOn: '2026-10-21' });

    // Assess
    expect(sms.body).toContain('请在2026年11月20日（含）前办理延续');
    expect(sms.body).not.toContain('9月20日');
  });

  it('repeats the request with a reminder mark in the final reminder', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, stage: 'final' });

    // Assess
    expect(sms.body).toBe(
      '【兴国县行政审批局】提醒：您的农药经营许可证（编号HX-PEST-0001）将于2026年12月20日到期，' +
        '请在2026年11月20日（含）前办理延续，办理地点：兴国县政务服务中心。',
    );
  });

  it('says the certificate has expired and asks for its own action in the expired reminder', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, stage: 'expired', deadlinePassed: true });

    // Assess
    expect(sms.body).toBe('【兴国县行政审批局】您的农药经营许可证（编号HX-PEST-0001）已于2026年12月20日到期，请尽快到兴国县政务服务中心办理延续。');
    expect(sms.body).not.toContain('换证');
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
    'says a passed deadline has passed, instead of asking to act before it, in a late %s reminder',
    (stage) => {
      // Act
      const { body } = renderReminder({ ...PESTICIDE, stage, deadlinePassed: true });

      // Assess
      expect(body).toContain('办理延续的期限2026年11月20日已过');
      expect(body).toContain('请尽快联系兴国县政务服务中心');
      expect(body).not.toContain('（含）前');
    },
  );

  it('sends a number as it is stored, without rewriting any character', () => {
    // Act
    const { body } = renderReminder({ ...PESTICIDE, number: '赣虔兴危化经字〔2021〕000012' });

    // Assess
    expect(body).toContain('（编号赣虔兴危化经字〔2021〕000012）');
  });

  it('refuses, rather than rewrites, a stored number that could pass for a signature or carry a link', () => {
    // Act & Assess
    expect(() => renderReminder({ ...PESTICIDE, number: '】已停用，回复1解除 http://x.cn【' })).toThrow(PermanentSendError);
  });

  it('checks only the values its template uses, so an unused holder name cannot hold a reminder back', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, holder: '兴国县某农资  有限公司' });

    // Assess
    expect(sms.body).not.toContain('有限公司');
  });

  it('refuses a holder name that could not go into an SMS when the template says it', () => {
    // Prepare
    const templates = { ...DEFAULT_TEMPLATES, first: { template: '{holder}，{typeName}', lateTemplate: null } };

    // Act & Assess
    expect(() => renderReminder({ ...PESTICIDE, holder: '【兴国县行政审批局】', templates })).toThrow(PermanentSendError);
  });

  it('says a certificate has expired when a catch-up for an earlier stage goes out after the expiry day', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, stage: 'final', deadlinePassed: true, sendOn: '2026-12-21' });

    // Assess
    expect(sms.body).toBe('【兴国县行政审批局】您的农药经营许可证（编号HX-PEST-0001）已于2026年12月20日到期，请尽快到兴国县政务服务中心办理延续。');
  });

  it('appends the help phone where it adds no segment', () => {
    // Act
    const sms = renderReminder({ ...PESTICIDE, helpPhone: '0797-5321234' });

    // Assess
    expect(sms.body.endsWith('办理地点：兴国县政务服务中心。咨询电话0797-5321234')).toBe(true);
    expect(sms).toMatchObject({ length: 104, segments: 2 });
  });

  it('leaves out the help phone where it would cost another segment', () => {
    // Prepare
    const expired = { ...PESTICIDE, stage: 'expired' as const, deadlinePassed: true };
    const without = renderReminder(expired);

    // Act
    const sms = renderReminder({ ...expired, helpPhone: '0797-5321234' });

    // Assess
    expect(without.segments).toBe(1);
    expect(sms).toEqual(without);
  });

  it('leaves out the help phone where it would pass the two-segment budget', () => {
    // Prepare
    const long = { ...PESTICIDE, windowOpens: '2026-09-20', sendOn: '2026-09-01', number: 'N'.repeat(45), helpPhone: '0797-5321234' };
    const without = renderReminder({ ...long, helpPhone: undefined });

    // Act
    const sms = renderReminder(long);

    // Assess
    expect(without.length).toBeLessThanOrEqual(BUDGET_LENGTH);
    expect(without.length + '咨询电话0797-5321234'.length).toBeGreaterThan(BUDGET_LENGTH);
    expect(sms.body).toBe(without.body);
  });

  it('renders stage templates it is given, placeholders filled and the signature in front', () => {
    // Act
    const sms = renderReminder({
      ...PESTICIDE,
      holder: '兴国县某农资有限公司',
      county: '兴国县',
      templates: {
        first: { template: '{holder}：{typeName}{number}请{applyBy}到{place}办理{action}（{county}）', lateTemplate: null },
        final: { template: '{typeName}', lateTemplate: null },
        expired: { template: '{typeName}', lateTemplate: null },
      },
    });

    // Assess
    expect(sms.body).toBe('【兴国县行政审批局】兴国县某农资有限公司：农药经营许可证HX-PEST-0001请在2026年11月20日（含）前到兴国县政务服务中心办理延续（兴国县）');
  });

  it('refuses to render more than 500 characters', () => {
    // Act & Assess
    expect(() => renderReminder({ ...PESTICIDE, templates: { ...DEFAULT_TEMPLATES, first: { template: '兴'.repeat(495), lateTemplate: null } } })).toThrow(
      PermanentSendError,
    );
  });
});
