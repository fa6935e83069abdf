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
  const today = todayIn(options.now);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const types = options.types.filter((t) => t.reminders);
  const undatedTypes = options.types.filter((t) => !t.reminders);
  // Last, so that the dated certificates before them keep the dates (and the reminders) they had.
  const dated = Math.max(count - undatedTypes.length * UNDATED_PER_TYPE, 0);
  const records: unknown[] = [];
  for (let i = 0; i < count; i += 1) {
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
