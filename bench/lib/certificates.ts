/**
 * Deterministic, valid certificates for the benchmarks: types spread over the whole catalogue,
 * all 25 townships, mainland mobiles from a few thousand real number blocks, and holder IDs with
 * correct GB 32100 / GB 11643 check characters. Certificate `i` is always the same certificate.
 */
import type { DateTime } from 'luxon';
import { contentHash, lookupsFrom, planFor } from '../../functions/app/upload-certificates.js';
import type { ReferenceData } from '../../functions/app/reference-data.js';
import type { ServiceSettings } from '../../functions/app/settings.js';
import { validateCertificates } from '../../functions/core/certificate.js';
import { residentIdCheckCharacter, usccCheckCharacter, USCC_CHARSET } from '../../functions/core/holder-id.js';
import type { Certificate, CertificateType, IsoDate, Township } from '../../functions/core/model.js';
import { normaliseMainlandMobile } from '../../functions/core/phone.js';
import type { StoredCertificate } from '../../functions/core/ports.js';

const SURNAMES = ['张', '李', '王', '刘', '陈', '杨', '黄', '赵', '周', '吴', '钟', '曾', '谢', '邱', '温', '肖', '朱', '罗'];
const GIVEN = ['伟', '芳', '敏', '军', '丽', '强', '磊', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '建华', '志强'];
const TRADES = ['农资', '食品', '药店', '建材', '运输', '餐饮', '农机', '商贸', '建筑', '环保', '脐橙', '茶油'];

/** Mobile prefixes of the three carriers; blocks under them are checked with libphonenumber before use. */
const MOBILE_PREFIXES = ['134', '135', '136', '137', '138', '139', '150', '151', '152', '157', '158', '159', '182', '183', '187', '188',
  '130', '131', '132', '155', '156', '185', '186', '133', '153', '180', '181', '189', '177', '199'];
/** A county's phones fall in a few thousand 7-digit blocks (号段 + HLR), not in millions. */
const PHONE_BLOCKS = 3_000;

export interface CertificateFactory {
  types: readonly CertificateType[];
  townships: readonly Township[];
  /**
   * The canonical certificate `i` expiring on `expiresOn`: what validation makes of `record(i, …)`.
   * Its type is `types[typeIndex]`, by default the catalogue in turn (`i mod types.length`).
   */
  certificate(i: number, expiresOn: IsoDate, typeIndex?: number): Certificate;
  /** The same certificate as a spreadsheet row arrives at the API: national phone, township by name every other row. */
  record(i: number, expiresOn: IsoDate, typeIndex?: number): Record<string, unknown>;
}

export function certificateFactory(reference: ReferenceData): CertificateFactory {
  const types = reference.catalogue.all();
  const townships = reference.townships.all();
  const blocks = mobileBlocks();

  const certificate = (i: number, expiresOn: IsoDate, typeIndex = i % types.length): Certificate => {
    const type = types[typeIndex % types.length]!;
    const township = townships[(i * 7 + Math.floor(i / types.length)) % townships.length]!;
    const block = blocks[mix(i) % blocks.length]!;
    const person = type.holderKind === 'individual' || type.holderKind === 'equipment';
    const years = validityYears(type);
    // 29 February plus whole years is not always a date: issue on the 28th then.
    const issuedOn = `${Number(expiresOn.slice(0, 4)) - years}${expiresOn.slice(4)}`.replace(/-02-29$/, '-02-28');
    return {
      type: type.code,
      number: `XG${type.code.length.toString(36).toUpperCase()}${String(i).padStart(9, '0')}`,
      holder: person
        ? { name: `${SURNAMES[i % SURNAMES.length]!}${GIVEN[mix(i + 1) % GIVEN.length]!}`, id: residentId(i) }
        : { name: `兴国县${township.nameZh.replace(/[镇乡]$/, '')}${TRADES[i % TRADES.length]!}有限公司`, id: uscc(i, type.holderKind === 'institution' ? '12' : '91') },
      phone: `+86${block}${String(mix(i + 2) % 10_000).padStart(4, '0')}`,
      township: township.code,
      issuedOn,
      expiresOn,
    };
  };

  const record = (i: number, expiresOn: IsoDate, typeIndex?: number): Record<string, unknown> => {
    const c = certificate(i, expiresOn, typeIndex);
    const township = reference.townships.resolve(c.township)!;
    return {
      type: c.type,
      number: c.number,
      holder: { ...c.holder },
      phone: c.phone.slice(3),
      township: i % 2 === 0 ? township.code : township.nameZh,
      issuedOn: c.issuedOn,
      expiresOn: c.expiresOn,
    };
  };

  return { types, townships, certificate, record };
}

/**
 * Runs `count` generated records through the real upload validation and checks that it accepts
 * every one and turns each into exactly `certificate(i)`: the benchmarks measure valid data only.
 */
export function assertRecordsValid(
  factory: CertificateFactory,
  reference: ReferenceData,
  count: number,
  expiry: (i: number) => IsoDate,
  typeOf: (i: number) => number = (i) => i % factory.types.length,
): void {
  const records = Array.from({ length: count }, (_, i) => factory.record(i, expiry(i), typeOf(i)));
  const { valid, rejected } = validateCertificates(records, lookupsFrom(reference));
  if (rejected.length > 0) throw new Error(`generated records rejected: ${JSON.stringify(rejected.slice(0, 3))}`);
  valid.forEach(({ index, certificate }) => {
    const expected = factory.certificate(index, expiry(index), typeOf(index));
    if (JSON.stringify(certificate) !== JSON.stringify(expected)) {
      throw new Error(`record ${index} validates to ${JSON.stringify(certificate)}, expected ${JSON.stringify(expected)}`);
    }
  });
}

/** The stored form `uploadCertificates` writes for a certificate it has not seen before. */
export function newStoredCertificate(
  deps: { reference: ReferenceData; settings: ServiceSettings },
  certificate: Certificate,
  now: DateTime,
): StoredCertificate {
  const nowIso = now.toISO() ?? '';
  return {
    certificate,
    plan: planFor(deps, certificate, now),
    contentHash: contentHash(certificate),
    version: 1,
    createdAt: nowIso,
    updatedAt: nowIso,
  };
}

function validityYears(type: CertificateType): number {
  const years = (type.validity as { years?: unknown } | null)?.years;
  return typeof years === 'number' && years > 0 ? years : 3;
}

/** A cheap integer hash (xorshift-multiply), so neighbouring certificates do not share a phone block. */
function mix(i: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

let blockCache: string[] | undefined;

/** 7-digit blocks that libphonenumber's /max metadata classes as mainland mobile. */
function mobileBlocks(): string[] {
  if (blockCache !== undefined) return blockCache;
  const blocks: string[] = [];
  for (let n = 0; blocks.length < PHONE_BLOCKS && n < PHONE_BLOCKS * 4; n += 1) {
    const prefix = MOBILE_PREFIXES[n % MOBILE_PREFIXES.length]!;
    const block = `${prefix}${String((mix(n) % 9000) + 1000)}`;
    if (normaliseMainlandMobile(`${block}0001`).ok) blocks.push(block);
  }
  if (blocks.length < PHONE_BLOCKS / 2) throw new Error(`only ${blocks.length} mobile number blocks found`);
  blockCache = blocks;
  return blocks;
}

function uscc(i: number, category: '91' | '12'): string {
  // Registration authority + category, 360732 (Xingguo), nine organisation characters, check character.
  let org = '';
  let n = i + 1;
  for (let k = 0; k < 9; k += 1) {
    org = USCC_CHARSET[n % 31]! + org;
    n = Math.floor(n / 31);
  }
  const first17 = `${category}360732${org}`;
  return `${first17}${usccCheckCharacter(first17)!}`;
}

function residentId(i: number): string {
  const year = 1955 + (i % 45);
  const month = 1 + (mix(i + 3) % 12);
  const day = 1 + (mix(i + 4) % 28);
  const first17 = `360732${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
  return `${first17}${residentIdCheckCharacter(first17)!}`;
}
