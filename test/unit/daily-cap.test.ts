import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { settingsFromEnvironment } from '../../functions/app/settings.js';
import { capDayOf, deferralEnded, nextCapDayOpening } from '../../functions/core/daily-cap.js';
import { isFinished } from '../../functions/core/delivery-status.js';
import { DEFAULT_SEND_WINDOW, ZONE } from '../../functions/core/model.js';

const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });

describe('Module: daily-cap', () => {
  describe('Function: capDayOf', () => {
    it('counts a send against the Asia/Shanghai calendar day, not the UTC one', () => {
      // Act
      const day = capDayOf(at('2026-09-13T17:30:00Z'));

      // Assess: 01:30 on 14 September in Shanghai.
      expect(day).toBe('2026-09-14');
    });
  });

  describe('Function: nextCapDayOpening', () => {
    it('holds a message back until the send window opens on the next Shanghai day', () => {
      // Act
      const next = nextCapDayOpening(at('2026-09-14T19:59:00+08:00'), DEFAULT_SEND_WINDOW);

      // Assess
      expect(next.setZone(ZONE).toISO()).toBe('2026-09-15T09:00:00.000+08:00');
    });

    it('takes the next day even when today’s window is still open', () => {
      // Act
      const next = nextCapDayOpening(at('2026-09-14T09:01:00+08:00'), { start: '10:00', end: '18:00' });

      // Assess
      expect(next.setZone(ZONE).toISO()).toBe('2026-09-15T10:00:00.000+08:00');
    });
  });

  describe('Function: deferralEnded', () => {
    it('lets a deferred message be claimed again only from the next day', () => {
      // Assess
      expect(deferralEnded('2026-09-14', '2026-09-14')).toBe(false);
      expect(deferralEnded('2026-09-14', '2026-09-15')).toBe(true);
    });
  });

  describe('Function: isFinished', () => {
    it('treats a deferred record as not finished, so it stays due', () => {
      // Assess
      expect(isFinished('deferred')).toBe(false);
      expect(isFinished('claimed')).toBe(false);
      expect(isFinished('sent')).toBe(true);
      expect(isFinished('suppressed')).toBe(true);
    });
  });

  describe('Setting: CERTALARM_SMS_DAILY_CAP_PER_PHONE', () => {
    it('defaults to 3 a day', () => {
      // Assess
      expect(settingsFromEnvironment({}).smsDailyCapPerPhone).toBe(3);
    });

    it('takes a whole number of messages and refuses zero with a reason', () => {
      // Assess
      expect(settingsFromEnvironment({ CERTALARM_SMS_DAILY_CAP_PER_PHONE: '5' }).smsDailyCapPerPhone).toBe(5);
      expect(() => settingsFromEnvironment({ CERTALARM_SMS_DAILY_CAP_PER_PHONE: '0' })).toThrow(/CERTALARM_SMS_DAILY_CAP_PER_PHONE/);
    });
  });
});
