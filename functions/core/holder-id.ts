/**
 * Checksums for the two identifiers a certificate holder can carry:
 * the unified social credit code of an organisation (统一社会信用代码, GB 32100-2015)
 * and the resident identity number of a person (居民身份证号码, GB 11643-1999).
 */
import { daysInMonth } from './civil-days.js';

export type HolderIdKind = 'uscc' | 'residentId';

export type HolderIdResult =
  | { ok: true; kind: HolderIdKind; value: string }
  | { ok: false; reason: string };

/** GB 32100-2015 §4: the 31 characters a code may use. I, O, S, V and Z are left out so they cannot be misread. */
export const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** GB 11643-1999 §7: ISO 7064 MOD 11-2 weights and the check character for each remainder. */
const RESIDENT_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const RESIDENT_ID_CHECK = '10X98765432';

/** Letters left out of the charset and the character a person most likely meant. */
const USCC_LOOKALIKES: Readonly<Record<string, string>> = { I: '1', O: '0', S: '5', V: 'U', Z: '2' };

const USCC_VALUE: ReadonlyMap<string, number> = new Map(
  Array.from(USCC_CHARSET, (char, value) => [char, value] as const),
);

/**
 * The check character for the first 17 characters of a unified social credit code,
 * or `undefined` if one of them is outside the charset.
 */
export function usccCheckCharacter(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = USCC_VALUE.get(first17.charAt(i));
    if (value === undefined) return undefined;
    sum += value * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARSET.charAt((31 - (sum % 31)) % 31);
}

/** The check character for the first 17 digits of a resident identity number, or `undefined` if they are not 17 digits. */
export function residentIdCheckCharacter(first17: string): string | undefined {
  if (!/^\d{17}$/.test(first17)) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += (first17.charCodeAt(i) - 48) * RESIDENT_ID_WEIGHTS[i]!;
  }
  return RESIDENT_ID_CHECK.charAt(sum % 11);
}

/**
 * Trim, fold full-width forms to ASCII (NFKC maps `９１３６` to `9136`), drop inner spaces
 * (neither identifier contains one, so a space is always a copy/paste artefact) and upper-case,
 * so that `x` in an identity number becomes the canonical `X`.
 */
export function normaliseHolderId(raw: string): string {
  // Almost every value is already canonical; skip the Unicode work for those.
  if (/^[0-9A-Z]{18}$/.test(raw)) return raw;
  return raw.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
}

export function validateHolderId(raw: string): HolderIdResult {
  const value = normaliseHolderId(raw);
  if (value.length === 0) {
    return fail('证件号码为空', 'the identifier is empty');
  }
  if (value.length === 15 && /^\d{15}$/.test(value)) {
    return fail(
      '这是旧版 15 位身份证号码；请填写 18 位居民身份证号码',
      'this is an old 15-digit identity number; use the 18-character resident identity number',
    );
  }
  if (value.length !== 18) {
    return fail(
      `证件号码应为 18 位（统一社会信用代码或居民身份证号码），实际为 ${value.length} 位`,
      `the identifier must be 18 characters (unified social credit code or resident identity number), got ${value.length}`,
    );
  }

  // An identity number is 17 digits and a check character; a credit code can look the same,
  // so an all-digit value is tried as both before it is declared wrong.
  if (/^\d{17}[\dX]$/.test(value)) {
    return validateDigitsOnly(value);
  }
  const uscc = validateUscc(value);
  return uscc.ok ? uscc : { ok: false, reason: uscc.reason };
}

function validateDigitsOnly(value: string): HolderIdResult {
  const birth = birthDateProblem(value);
  const residentCheck = residentIdCheckCharacter(value.slice(0, 17))!;
  const residentOk = birth === undefined && residentCheck === value.charAt(17);
  if (residentOk) return { ok: true, kind: 'residentId', value };

  const uscc = validateUscc(value);
  if (uscc.ok) return uscc;

  // Neither fits. A real birth date in positions 7–14 says the person meant an identity number.
  if (birth === undefined) {
    return fail(
      `居民身份证号码校验位错误（应为 ${residentCheck}）`,
      `resident identity number check digit is wrong (expected ${residentCheck})`,
    );
  }
  return fail(
    `既不是有效的居民身份证号码：${birth.zh}；也不是有效的统一社会信用代码：${uscc.zhDetail}。请核对号码`,
    `neither a valid resident identity number: ${birth.en}; nor a valid unified social credit code: ${uscc.enDetail}. Check the number`,
  );
}

type UsccResult = { ok: true; kind: 'uscc'; value: string } | { ok: false; reason: string; zhDetail: string; enDetail: string };

function validateUscc(value: string): UsccResult {
  for (let i = 0; i < 18; i++) {
    const char = value.charAt(i);
    if (!USCC_VALUE.has(char)) {
      const lookalike = USCC_LOOKALIKES[char];
      const zh = `第 ${i + 1} 位 "${char}" 不是允许的字符` + (lookalike ? `（代码不使用该字母，应是 ${lookalike}？）` : '');
      const en = `character ${i + 1} "${char}" is not allowed` + (lookalike ? ` (codes never use it; did you mean ${lookalike}?)` : '');
      return usccFail(zh, en);
    }
  }
  // GB 32100-2015 §4.1: positions 1–2 are the registration authority and the organisation category,
  // neither of which uses 0; positions 3–8 are an administrative division code, always digits.
  // The tables of authority and category codes have grown since 2015, so they are not enumerated here.
  if (value.charAt(0) === '0' || value.charAt(1) === '0') {
    return usccFail(
      '前两位（登记管理部门和机构类别代码）不能为 0',
      'the first two characters (registration authority and organisation category) cannot be 0',
    );
  }
  if (!/^\d{6}$/.test(value.slice(2, 8))) {
    return usccFail(
      '第 3–8 位应为行政区划代码（6 位数字）',
      'characters 3–8 must be an administrative division code (6 digits)',
    );
  }
  const expected = usccCheckCharacter(value.slice(0, 17))!;
  if (expected !== value.charAt(17)) {
    return usccFail(`校验位错误（应为 ${expected}）`, `check character is wrong (expected ${expected})`);
  }
  return { ok: true, kind: 'uscc', value };
}

function usccFail(zhDetail: string, enDetail: string): UsccResult {
  return {
    ok: false,
    reason: `统一社会信用代码${zhDetail} / unified social credit code ${enDetail}`,
    zhDetail,
    enDetail,
  };
}

/** Positions 7–14 of an identity number are the birth date YYYYMMDD; it must exist on the calendar. */
function birthDateProblem(value: string): { zh: string; en: string } | undefined {
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  // Nobody alive was born before 1900; the upper bound would need `now`, which the core does not read.
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    const shown = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
    return { zh: `出生日期 ${shown} 不存在`, en: `birth date ${shown} does not exist` };
  }
  return undefined;
}

function fail(zh: string, en: string): { ok: false; reason: string } {
  return { ok: false, reason: `${zh} / ${en}` };
}

/**
 * A holder ID as API answers show it: the first and last four characters, the rest starred
 * (`3607**********123X`), so staff can tell two holders apart without the number being disclosed.
 */
export function maskHolderId(id: string): string {
  const chars = Array.from(id);
  if (chars.length <= 8) return '*'.repeat(chars.length);
  return `${chars.slice(0, 4).join('')}${'*'.repeat(chars.length - 8)}${chars.slice(-4).join('')}`;
}
