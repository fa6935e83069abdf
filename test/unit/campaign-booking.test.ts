import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { decideBooking, refusalMessage, slotsWithRoom, type BookableVisit, type Booking } from '../../functions/core/campaigns/booking.js';

const NOW = DateTime.fromISO('2027-01-05T10:00:00+08:00');

function visit(overrides: Partial<BookableVisit> = {}): BookableVisit {
  return {
    id: 'v1',
    township: 'chenggang',
    date: '2027-01-12',
    place: '城岗乡政府大院',
    state: 'scheduled',
    slots: [
      { number: 1, start: '09:00', end: '10:00', capacity: 2, booked: 2 },
      { number: 2, start: '10:00', end: '11:00', capacity: 2, booked: 1 },
      { number: 3, start: '14:00', end: '15:00', capacity: 5, booked: 0 },
    ],
    ...overrides,
  };
}

function booking(overrides: Partial<Booking> = {}): Booking {
  return {
    bookingId: 'K7M2XP', code: 'K7M2XP', campaignId: 'c1', visitId: 'v1', phone: '+8613800000001', slot: 2, state: 'booked', sequence: 1,
    at: '2027-01-04T02:00:00.000Z', updatedAt: '2027-01-04T02:00:00.000Z', ...overrides,
  };
}

describe('Function: decideBooking', () => {
  it('takes a slot with room for a code that never booked', () => {
    // Act & Assess
    expect(decideBooking(visit(), undefined, 2, NOW)).toEqual({ kind: 'take', slot: visit().slots[1] });
  });

  it('moves a booking: takes the new slot and gives the old one back', () => {
    // Act & Assess
    expect(decideBooking(visit(), booking({ slot: 2 }), 3, NOW)).toEqual({ kind: 'take', slot: visit().slots[2], from: visit().slots[1] });
  });

  it('changes nothing when the code already holds the slot, even a full one', () => {
    // Act & Assess
    expect(decideBooking(visit(), booking({ slot: 1 }), 1, NOW)).toEqual({ kind: 'unchanged' });
  });

  it('takes a slot again after the code cancelled, without giving anything back', () => {
    // Act & Assess
    expect(decideBooking(visit(), booking({ state: 'cancelled', sequence: 2 }), 2, NOW)).toEqual({ kind: 'take', slot: visit().slots[1] });
  });

  it('refuses a full slot, listing the slots that still have room', () => {
    // Act
    const decision = decideBooking(visit(), undefined, 1, NOW);

    // Assess
    expect(decision).toEqual({
      kind: 'refuse',
      refusal: { reason: 'full', rooms: [{ number: 2, start: '10:00', end: '11:00', room: 1 }, { number: 3, start: '14:00', end: '15:00', room: 5 }] },
    });
  });

  it('refuses a slot number the visit does not have, naming the ones it has', () => {
    // Act & Assess
    expect(decideBooking(visit(), undefined, 9, NOW)).toEqual({ kind: 'refuse', refusal: { reason: 'unknownSlot', slots: [1, 2, 3] } });
  });

  it('refuses a cancelled visit', () => {
    // Act & Assess
    expect(decideBooking(visit({ state: 'cancelled' }), undefined, 3, NOW)).toEqual({ kind: 'refuse', refusal: { reason: 'visitCancelled' } });
  });

  it('refuses a visit whose day has passed in Shanghai', () => {
    // Act & Assess
    expect(decideBooking(visit(), undefined, 3, DateTime.fromISO('2027-01-12T16:30:00Z'))).toEqual({ kind: 'refuse', refusal: { reason: 'visitPast', date: '2027-01-12' } });
  });

  it('refuses a slot that has begun on the visit day, but takes a later one', () => {
    // Prepare: 10:30 on the visit day
    const duringVisit = DateTime.fromISO('2027-01-12T10:30:00+08:00');

    // Act & Assess
    expect(decideBooking(visit(), undefined, 2, duringVisit)).toEqual({ kind: 'refuse', refusal: { reason: 'slotStarted', start: '10:00' } });
    expect(decideBooking(visit(), undefined, 3, duringVisit).kind).toBe('take');
  });
});

describe('Function: slotsWithRoom', () => {
  it('is empty when every slot is full', () => {
    // Act & Assess
    expect(slotsWithRoom(visit({ slots: [{ number: 1, start: '09:00', end: '10:00', capacity: 1, booked: 1 }] }))).toEqual([]);
  });
});

describe('Function: refusalMessage', () => {
  it('names the full slot and where there is room, in Chinese and English', () => {
    // Act
    const message = refusalMessage({ reason: 'full', rooms: [{ number: 3, start: '14:00', end: '15:00', room: 5 }] }, 1);

    // Assess
    expect(message).toBe('第 1 场已约满，尚有名额的场次：3（14:00-15:00，余 5） / slot 1 is full; slots with room: 3 (14:00-15:00, 5 left)');
  });
});
