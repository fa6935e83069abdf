import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { campaignReport, campaignReportCsv, REPORT_CSV_HEADER, type ReportInput } from '../../functions/core/campaigns/report.js';

function input(): ReportInput {
  return {
    visits: [
      {
        id: 'v2', township: 'gaoxing', townshipName: '高兴镇', date: '2027-01-20', place: '高兴镇农机站', state: 'scheduled',
        slots: [{ number: 1, start: '09:00', end: '10:00', capacity: 10 }],
      },
      {
        id: 'v1', township: 'chenggang', townshipName: '城岗乡', date: '2027-01-12', place: '城岗乡政府大院', state: 'scheduled',
        slots: [
          { number: 2, start: '10:00', end: '11:00', capacity: 20 },
          { number: 1, start: '09:00', end: '10:00', capacity: 20 },
        ],
      },
    ],
    invitations: [
      { visitId: 'v1', phone: '+8613800000001', certificates: [{ type: 'farm_machine_annual_inspection', number: 'NJ-1', expiresOn: '2027-02-01' }] },
      {
        visitId: 'v1', phone: '+8613800000002',
        certificates: [
          { type: 'farm_machine_annual_inspection', number: 'NJ-2', expiresOn: '2026-12-01' },
          { type: 'farm_machine_operator_license', number: 'JS-2', expiresOn: '2027-03-01' },
        ],
      },
      { visitId: 'v1', phone: '+8613800000003', certificates: [{ type: 'farm_machine_annual_inspection', number: 'NJ-1', expiresOn: '2027-02-01' }] },
      { visitId: 'v2', phone: '+8613800000004', certificates: [{ type: 'farm_machine_annual_inspection', number: 'NJ-4', expiresOn: '2027-01-05' }] },
    ],
    messages: [
      { visitId: 'v1', kind: 'notice', status: 'sent' },
      { visitId: 'v1', kind: 'notice', status: 'sent' },
      { visitId: 'v1', kind: 'notice', status: 'failed' },
      { visitId: 'v1', kind: 'confirmation#1', status: 'sent' },
      { visitId: 'v1', kind: 'reminder', status: 'sent' },
      { visitId: 'v2', kind: 'notice', status: 'claimed' },
    ],
    bookings: [
      { visitId: 'v1', slot: 1, state: 'booked', attended: true },
      { visitId: 'v1', slot: 1, state: 'booked', attended: false },
      { visitId: 'v1', slot: 2, state: 'booked' },
      { visitId: 'v1', slot: 2, state: 'cancelled', attended: true },
    ],
    seasonEnd: '2027-06-30',
    currentExpiry: new Map([
      // NJ-1 renewed (invited from two phones: one renewal), NJ-2 renewed, JS-2 unchanged, NJ-4 deleted.
      ['farm_machine_annual_inspection#NJ-1', '2028-02-01'],
      ['farm_machine_annual_inspection#NJ-2', '2027-12-01'],
      ['farm_machine_operator_license#JS-2', '2027-03-01'],
    ]),
  };
}

describe('Function: campaignReport', () => {
  it('reports each visit in date order with invited phones, notices, bookings per slot, attendance and renewals', () => {
    // Act
    const rows = campaignReport(input());

    // Assess
    expect(rows.map((r) => r.visitId)).toEqual(['v1', 'v2']);
    expect(rows[0]).toEqual({
      visitId: 'v1', township: 'chenggang', townshipName: '城岗乡', date: '2027-01-12', place: '城岗乡政府大院', state: 'scheduled',
      invitedPhones: 3,
      notices: { sent: 2, failed: 1 },
      slots: [
        { number: 1, start: '09:00', end: '10:00', capacity: 20, booked: 2 },
        { number: 2, start: '10:00', end: '11:00', capacity: 20, booked: 1 },
      ],
      booked: 3,
      attended: 1,
      bookedWhenCancelled: 0,
      renewedAfter: 2,
    });
  });

  it('counts a claimed notice neither as sent nor failed, and a deleted certificate as not renewed', () => {
    // Act
    const [, v2] = campaignReport(input());

    // Assess
    expect(v2?.notices).toEqual({ sent: 0, failed: 0 });
    expect(v2?.renewedAfter).toBe(0);
    expect(v2?.booked).toBe(0);
  });

  it('counts, for an invitation that kept no expiry, a current expiry after the season end as a renewal', () => {
    // Prepare: NJ-9 now expires after the season (renewed), NJ-8 still within it
    const base = input();
    const rows = campaignReport({
      ...base,
      invitations: [
        { visitId: 'v2', phone: '+8613800000009', certificates: [{ type: 'farm_machine_annual_inspection', number: 'NJ-9' }, { type: 'farm_machine_annual_inspection', number: 'NJ-8' }] },
      ],
      currentExpiry: new Map([
        ['farm_machine_annual_inspection#NJ-9', '2028-01-19'],
        ['farm_machine_annual_inspection#NJ-8', '2027-05-01'],
      ]),
    });

    // Assess
    expect(rows.find((r) => r.visitId === 'v2')?.renewedAfter).toBe(1);
  });

  it('counts no live bookings on a cancelled visit, and says how many were held when it was cancelled', () => {
    // Prepare: v1 is cancelled with its three bookings still on it
    const cancelled = input();
    cancelled.visits = cancelled.visits.map((v) => (v.id === 'v1' ? { ...v, state: 'cancelled' as const } : v));

    // Act
    const row = campaignReport(cancelled).find((r) => r.visitId === 'v1');

    // Assess
    expect(row).toMatchObject({ state: 'cancelled', booked: 0, attended: 0, bookedWhenCancelled: 3, invitedPhones: 3, notices: { sent: 2, failed: 1 } });
    expect(row?.slots.map((s) => s.booked)).toEqual([0, 0]);
    expect(campaignReport(input()).find((r) => r.visitId === 'v1')?.bookedWhenCancelled).toBe(0);
  });
});

describe('Function: campaignReportCsv', () => {
  it('writes a BOM, Chinese headers, CRLF lines and one row per visit that reads back cell for cell', () => {
    // Act
    const csv = campaignReportCsv(campaignReport(input()));

    // Assess
    expect(csv.startsWith(`\uFEFF${REPORT_CSV_HEADER.join(',')}\r\n`)).toBe(true);
    expect(csv.split('\r\n')).toHaveLength(4);
    const [header, first, second] = parse(csv, { bom: true }) as string[][];
    expect(header).toEqual([...REPORT_CSV_HEADER]);
    expect(first).toEqual(['城岗乡', '2027-01-12', '城岗乡政府大院', '已安排', '3', '2', '1', '3', '第1场 09:00-10:00：2/20；第2场 10:00-11:00：1/20', '1', '2']);
    expect(second?.[0]).toBe('高兴镇');
  });

  it('writes a cancelled visit’s row as cancelled, with no bookings and those it held when cancelled', () => {
    // Prepare
    const cancelled = input();
    cancelled.visits = cancelled.visits.map((v) => (v.id === 'v1' ? { ...v, state: 'cancelled' as const } : v));

    // Act
    const [, first] = parse(campaignReportCsv(campaignReport(cancelled)), { bom: true }) as string[][];

    // Assess
    expect(first).toEqual(['城岗乡', '2027-01-12', '城岗乡政府大院', '已取消', '3', '2', '1', '0', '已取消；取消时已有 3 人预约，已短信告知', '0', '2']);
  });
});
