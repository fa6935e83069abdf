import { describe, expect, it } from 'vitest';
import {
  BOOKING_REPLY_SEGMENTS,
  bookingCancellationText,
  bookingConfirmationText,
  bookingHelpText,
  slotFullText,
} from '../../functions/core/campaigns/booking-texts.js';
import { checkSmsSafeText, SMS_SAFE_MAX_LENGTH } from '../../functions/core/sms-safe-text.js';

// The longest place a visit may have: the budget must hold for it.
const LONGEST_PLACE = '兴国县长冈乡塘石村农机合作社大院东侧晒谷场旁边的仓库门口停车'.slice(0, SMS_SAFE_MAX_LENGTH.place);
const booked = { code: 'K7M2XP', date: '2027-01-12', slot: 3, start: '10:00', end: '11:00', place: LONGEST_PLACE };

describe('Function: bookingConfirmationText', () => {
  it('names the date, the time and the place, and how to change or cancel, within the segment budget', () => {
    // Act
    const text = bookingConfirmationText(booked);

    // Assess
    expect(text.body).toContain('2027年1月12日 10:00-11:00');
    expect(text.body).toContain(LONGEST_PLACE);
    expect(text.body).toContain('K7M2XP 场次号');
    expect(text.body).toContain('取消 K7M2XP');
    expect(text.body.startsWith('【兴国县行政审批局】')).toBe(true);
    expect(text.segments).toBeLessThanOrEqual(BOOKING_REPLY_SEGMENTS);
  });

  it('refuses a place that could turn the SMS into a phishing text', () => {
    // Act & Assess
    expect(() => bookingConfirmationText({ ...booked, place: '村委会 x.cn' })).toThrow(/web address/);
  });
});

describe('Function: bookingCancellationText', () => {
  it('names the cancelled date and time and how to book again', () => {
    // Act
    const text = bookingCancellationText(booked);

    // Assess
    expect(text.body).toContain('已取消您2027年1月12日 10:00-11:00');
    expect(text.body).toContain('K7M2XP 场次号');
    expect(text.segments).toBeLessThanOrEqual(BOOKING_REPLY_SEGMENTS);
  });
});

describe('Function: slotFullText', () => {
  it('lists the slots that still have room', () => {
    // Act
    const text = slotFullText('K7M2XP', 2, [
      { number: 1, start: '09:00', end: '10:00', room: 3 },
      { number: 4, start: '14:00', end: '15:00', room: 1 },
      { number: 5, start: '15:00', end: '16:00', room: 9 },
      { number: 6, start: '16:00', end: '17:00', room: 9 },
    ]);

    // Assess
    expect(text.body).toContain('第2场已约满，尚有名额：第1场09:00、第4场14:00、第5场15:00、第6场16:00');
    expect(text.segments).toBeLessThanOrEqual(BOOKING_REPLY_SEGMENTS);
  });

  it('says the whole visit is full when no slot has room', () => {
    // Act & Assess
    expect(slotFullText('K7M2XP', 2, []).body).toContain('各场次均已约满');
  });
});

describe('Function: bookingHelpText', () => {
  it('explains how to book and cancel in one segment budget, naming no one', () => {
    // Act
    const text = bookingHelpText();

    // Assess
    expect(text.body).toContain('预约码 场次号');
    expect(text.body).toContain('取消 预约码');
    expect(text.segments).toBeLessThanOrEqual(BOOKING_REPLY_SEGMENTS);
    expect(checkSmsSafeText('holderName', text.body.replace(/^【[^】]+】/u, ''))).toBeUndefined();
  });
});
