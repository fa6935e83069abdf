import type { DateTime } from 'luxon';
import { residentIdCheckCharacter, usccCheckCharacter, USCC_CHARSET } from '../core/holder-id.js';
import type { CertificateType, Township } from '../core/model.js';
import { addDays, todayIn } from '../core/planning.js';

/** A small deterministic generator, so every first start shows the same demo. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const SURNAMES = ['张', '李', '王', '刘', '陈', '杨', '黄', '赵', '周', '吴', '钟', '曾', '谢', '邱', '温'];
const TRADES = ['农资', '食品', '药店', '建材', '运输', '餐饮', '农机', '商贸', '建筑', '环保'];

/** Demo certificates of each type without an expiry: enough to see them listed, never reminded of. */
const UNDATED_PER_TYPE = 2;

/**
 * A realistic demo set: `count` certificates across the catalogue and all 25 townships, expiring from a few weeks
 * ago to a year and a half ahead, so that some reminders fall due soon after a first start; the last few are of
 * the types without an expiry (tractor registrations and the like), stored with none and no plan. Holders are
 * obviously fictitious ("演示" in every name), phones sit in a 139 0000 range and IDs carry valid check characters.
 */
export function demoCertificates(options: { now: DateTime; types: readonly CertificateType[]; townships: readonly Township[]; count?: number }): unknown[] {
  const random = seeded(20261128);
  const count = options.count ?? 300;
  // The spring campaign's holders are part of the demo set, in place of the last generated certificates.
  const farm = options.townships.length > 0 ? demoFarmMachineHolders(options.townships) : [];
  const generated = Math.max(count - farm.length, 0);
  const today = todayIn(options.now);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const types = options.types.filter((t) => t.reminders);
  const undatedTypes = options.types.filter((t) => !t.reminders);
  // Last, so that the dated certificates before them keep the dates (and the reminders) they had.
  const dated = Math.max(generated - undatedTypes.length * UNDATED_PER_TYPE, 0);
  const records: unknown[] = [];
  for (let i = 0; i < generated; i += 1) {
    const type = (i < dated ? types[i % types.length] : undatedTypes[(i - dated) % undatedTypes.length]) as CertificateType;
    const township = pick(options.townships);
    const individual = type.holderKind === 'individual' || type.holderKind === 'equipment';
    const serial = String(i + 1).padStart(4, '0');
    let issuedOn: string;
    let expiresOn: string | undefined;
    if (type.reminders) {
      // Most certificates expire in the coming 18 months; a few are already past, to show catch-up messages.
      const offset = random() < 0.08 ? -Math.floor(random() * 40) : Math.floor(random() * 540);
      expiresOn = addDays(today, offset);
      const years = typeof (type.validity as { years?: unknown } | null)?.years === 'number' ? (type.validity as { years: number }).years : 3;
      issuedOn = `${Number(expiresOn.slice(0, 4)) - years}${expiresOn.slice(4)}`.replace(/-02-29$/, '-02-28');
    } else {
      // A registration has an issue date and nothing after it: no expiresOn at all, as a register exports it.
      issuedOn = addDays(today, -Math.floor(random() * 3650) - 30);
    }
    records.push({
      type: type.code,
      number: `DEMO-${type.code.slice(0, 12).toUpperCase()}-${serial}`,
      holder: individual
        ? { name: `演示用户${pick(SURNAMES)}某${serial}`, id: demoResidentId(i) }
        : { name: `演示${township.nameZh.replace(/[镇乡]$/, '')}${pick(TRADES)}有限公司${serial}`, id: demoUscc(i) },
      phone: `1390000${String(i).padStart(4, '0')}`,
      township: township.code,
      issuedOn,
      ...(expiresOn !== undefined ? { expiresOn } : {}),
    });
  }
  return [...records, ...farm.slice(0, count - generated)];
}

/**
 * The demo's spring campaign (上门服务) for 2027: both farm-machine types, the slack season before spring
 * ploughing (4 January – 28 February), with the Spring Festival holidays (5–13 February) kept free.
 * Spring transplanting (25 March – 20 April) falls after the season, so it needs no blackout here.
 */
export const DEMO_CAMPAIGN = {
  name: '2027年春季农机上门服务（演示）',
  types: ['farm_machine_annual_inspection', 'farm_machine_operator_license'],
  season: { from: '2027-01-04', to: '2027-02-28' },
  blackouts: [{ from: '2027-02-05', to: '2027-02-13', reason: '春节假期' }],
  noticeDaysBefore: 14,
  reminderDaysBefore: 1,
} as const;

/**
 * Four visits on one route (北线) of townships, a day each, in the week of 18 January 2027. The reference
 * data has no map of which townships border which: the bureau reorders the route as it knows the roads.
 */
export const DEMO_CAMPAIGN_VISITS = [
  { township: '江背镇', date: '2027-01-18', place: '江背镇农机服务站', slots: [{ start: '09:00', end: '10:30', capacity: 15 }, { start: '10:30', end: '12:00', capacity: 15 }, { start: '14:30', end: '16:30', capacity: 20 }] },
  { township: '古龙冈镇', date: '2027-01-19', place: '古龙冈镇古龙冈村村委会', slots: [{ start: '09:00', end: '11:00', capacity: 20 }, { start: '14:30', end: '16:30', capacity: 20 }] },
  { township: '良村镇', date: '2027-01-20', place: '良村镇农机站', slots: [{ start: '09:00', end: '10:30', capacity: 12 }, { start: '10:30', end: '12:00', capacity: 12 }, { start: '14:00', end: '15:30', capacity: 12 }, { start: '15:30', end: '17:00', capacity: 12 }] },
  { township: '梅窖镇', date: '2027-01-21', place: '梅窖镇梅窖村村委会', slots: [{ start: '09:00', end: '11:00', capacity: 20 }, { start: '14:30', end: '16:30', capacity: 20 }] },
] as const;

const DEMO_FARM_HOLDERS_PER_TOWNSHIP = 6;

/**
 * Farm-machine holders in the route's townships: each has a machine whose annual inspection runs out
 * between November 2026 and February 2027 (two already lapsed), every other one also an operator
 * licence expiring in the season, and one per township a machine inspected until May (not invited).
 * Phones sit in the demo's 139 0000 range (139 0000 5xxx), names say 演示.
 */
export function demoFarmMachineHolders(townships: readonly Township[]): unknown[] {
  const records: unknown[] = [];
  DEMO_CAMPAIGN_VISITS.forEach((visit, t) => {
    const township = townships.find((w) => w.nameZh === visit.township);
    if (township === undefined) return;
    for (let h = 0; h <= DEMO_FARM_HOLDERS_PER_TOWNSHIP; h += 1) {
      const k = t * 10 + h;
      const serial = String(k + 1).padStart(4, '0');
      const phone = `13900005${String(k).padStart(3, '0')}`;
      const holder = { name: `演示农机户${SURNAMES[k % SURNAMES.length] ?? '张'}某${serial}`, id: demoResidentId(5000 + k) };
      const inspectionExpires = h === DEMO_FARM_HOLDERS_PER_TOWNSHIP ? '2027-05-16' : addDays('2026-11-20', (k * 17) % 97);
      records.push({
        type: 'farm_machine_annual_inspection',
        number: `DEMO-NJJY-${serial}`,
        holder,
        phone,
        township: township.code,
        issuedOn: `${Number(inspectionExpires.slice(0, 4)) - 1}${inspectionExpires.slice(4)}`,
        expiresOn: inspectionExpires,
      });
      if (h % 2 === 0 && h < DEMO_FARM_HOLDERS_PER_TOWNSHIP) {
        const licenceExpires = addDays('2027-01-06', (k * 11) % 50);
        records.push({
          type: 'farm_machine_operator_license',
          number: `DEMO-NJJS-${serial}`,
          holder,
          phone,
          township: township.code,
          issuedOn: `${Number(licenceExpires.slice(0, 4)) - 6}${licenceExpires.slice(4)}`,
          expiresOn: licenceExpires,
        });
      }
    }
  });
  return records;
}

function demoUscc(i: number): string {
  // 91 = enterprise registered by market regulation; 360732 = Xingguo; then 9 organisation characters.
  let org = '';
  let n = i + 1;
  for (let k = 0; k < 9; k += 1) {
    org = (USCC_CHARSET[n % 31] ?? '0') + org;
    n = Math.floor(n / 31);
  }
  const first17 = `91360732${org}`;
  return `${first17}${usccCheckCharacter(first17) ?? '0'}`;
}

function demoResidentId(i: number): string {
  const birth = `19${60 + (i % 40)}0${1 + (i % 9)}1${i % 10}`;
  const first17 = `360732${birth}${String(100 + (i % 900)).padStart(3, '0')}`;
  return `${first17}${residentIdCheckCharacter(first17) ?? '0'}`;
}
