/**
 * Whether a booking code may take a slot of its visit, decided from what was read: the visit (with its
 * slots' capacities and counts), the code's current booking and the instant. The store then makes the
 * decision hold under concurrency (a conditional increment of the slot's count), so a full slot is
 * refused here only as a courtesy to give a good answer; the condition is what guarantees capacity.
 *
 * Pure: the booking use case calls it.
 */
import { DateTime } from 'luxon';
import { ZONE, type IsoDate } from '../model.js';
import type { BookingRecord, Slot, Visit } from './model.js';
import type { SlotRoom } from './booking-texts.js';

/** The part of a visit bookings need (a stored `Visit` is one). */
export type BookableVisit = Pick<Visit, 'id' | 'township' | 'date' | 'place' | 'state' | 'slots'>;

/**
 * A booking as the booking use case keeps it: one per code, moved or cancelled in place, so its id is
 * the code. A cancelled booking stays (with its sequence), so booking again continues the sequence.
 */
export interface Booking extends BookingRecord {
  phone: string;
  state: 'booked' | 'cancelled';
  /** Increases on every book, move and cancel: messages about this booking are keyed by it. */
  sequence: number;
  updatedAt: string;
  attendanceBy?: string;
  attendanceAt?: string;
}

export type BookingRefusal =
  | { reason: 'unknownSlot'; slots: number[] }
  | { reason: 'visitCancelled' }
  | { reason: 'visitPast'; date: IsoDate }
  | { reason: 'slotStarted'; start: string }
  | { reason: 'full'; rooms: SlotRoom[] };

export type BookingDecision =
  | { kind: 'refuse'; refusal: BookingRefusal }
  /** The code already holds this slot: nothing to write, nothing to send. */
  | { kind: 'unchanged' }
  /** Take `slot`; with `from`, give that slot back in the same write. */
  | { kind: 'take'; slot: Slot; from?: Slot };

/** The slots that still have a place, in number order. */
export function slotsWithRoom(visit: BookableVisit): SlotRoom[] {
  return [...visit.slots]
    .filter((s) => s.booked < s.capacity)
    .sort((a, b) => a.number - b.number)
    .map((s) => ({ number: s.number, start: s.start, end: s.end, room: s.capacity - s.booked }));
}

/** When a slot begins, as an instant: the visit's date and the slot's start, in Asia/Shanghai. */
export function slotStart(date: IsoDate, start: string): DateTime {
  return DateTime.fromISO(`${date}T${start}`, { zone: ZONE });
}

export function decideBooking(visit: BookableVisit, current: Booking | undefined, slotNumber: number, now: DateTime): BookingDecision {
  const slot = visit.slots.find((s) => s.number === slotNumber);
  if (slot === undefined) return refuse({ reason: 'unknownSlot', slots: visit.slots.map((s) => s.number).sort((a, b) => a - b) });
  if (visit.state === 'cancelled') return refuse({ reason: 'visitCancelled' });
  const today = now.setZone(ZONE).toISODate() ?? '';
  if (visit.date < today) return refuse({ reason: 'visitPast', date: visit.date });
  if (slotStart(visit.date, slot.start) <= now) return refuse({ reason: 'slotStarted', start: slot.start });
  const holding = current?.state === 'booked' && current.visitId === visit.id ? visit.slots.find((s) => s.number === current.slot) : undefined;
  if (holding?.number === slot.number) return { kind: 'unchanged' };
  if (slot.booked >= slot.capacity) return refuse({ reason: 'full', rooms: slotsWithRoom(visit) });
  return holding === undefined ? { kind: 'take', slot } : { kind: 'take', slot, from: holding };
}

function refuse(refusal: BookingRefusal): BookingDecision {
  return { kind: 'refuse', refusal };
}

/** A refusal as a person reads it, in Chinese and English. */
export function refusalMessage(refusal: BookingRefusal, slotNumber: number): string {
  switch (refusal.reason) {
    case 'unknownSlot':
      return `本次上门服务没有第 ${slotNumber} 场，可选场次：${refusal.slots.join('、')} / visit has no slot ${slotNumber}; its slots are ${refusal.slots.join(', ')}`;
    case 'visitCancelled':
      return '该次上门服务已取消，不能预约 / this visit was cancelled and takes no bookings';
    case 'visitPast':
      return `该次上门服务日期 ${refusal.date} 已过，不能预约 / this visit took place on ${refusal.date} and takes no more bookings`;
    case 'slotStarted':
      return `第 ${slotNumber} 场已于 ${refusal.start} 开始，不能再预约 / slot ${slotNumber} began at ${refusal.start} and takes no more bookings`;
    case 'full': {
      const open = refusal.rooms.map((r) => `${r.number}（${r.start}-${r.end}，余 ${r.room}）`).join('、');
      const openEn = refusal.rooms.map((r) => `${r.number} (${r.start}-${r.end}, ${r.room} left)`).join(', ');
      return refusal.rooms.length === 0
        ? `第 ${slotNumber} 场已约满，本次各场次均已约满 / slot ${slotNumber} is full, and so is every other slot of this visit`
        : `第 ${slotNumber} 场已约满，尚有名额的场次：${open} / slot ${slotNumber} is full; slots with room: ${openEn}`;
    }
  }
}
