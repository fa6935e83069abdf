/**
 * Mainland China mobile numbers: the only numbers a reminder SMS can reach.
 *
 * libphonenumber-js decides, through its `core` functions and China's slice of its mobile metadata
 * (data/phone-metadata-cn.json, made by scripts/phone-metadata.ts): the metadata of every country would
 * add ~96 KiB to each Lambda bundle for numbers that are refused anyway.
 */
import { parsePhoneNumberFromString, type MetadataJson } from 'libphonenumber-js/core';
import * as z from 'zod';
import phoneMetadataJson from '../../data/phone-metadata-cn.json' with { type: 'json' };

export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: string };

const NOT_MOBILE_ZH = '不是有效的中国大陆手机号';
const NOT_MOBILE_EN = 'not a valid mainland China mobile number';

/** Digits, an optional leading `+`, and the separators people type between digit groups. */
const ALLOWED = /^\+?[\d\s\-().]+$/;
const ALLOWED_CHAR = /[\d\s+\-().]/;

/**
 * 7-digit blocks (号段 + HLR code, e.g. `1390000`) libphonenumber has already classed as mobile.
 * MIIT allocates mobile numbers in blocks of 10 000, so a number's type is fixed by its first seven
 * digits (the CN metadata patterns look at five at most). Parsing costs ~7 µs, mostly compiling
 * regular expressions on every call. A county's numbers fall in comparatively few blocks, so
 * later numbers in a known block skip the parse. The verdict still comes from libphonenumber.
 */
const knownMobileBlocks = new Set<string>();
const MAX_KNOWN_BLOCKS = 100_000;

/**
 * The committed metadata, checked for the parts this module relies on (calling code 86 and China's
 * numbering plan; test/unit/phone-metadata.test.ts holds it to the installed libphonenumber-js). Checked
 * on first use rather than at import: a bundle that only masks numbers then leaves the metadata out.
 */
let phoneMetadata: PhoneMetadata | undefined;

interface PhoneMetadata {
  metadata: MetadataJson;
  callingCodes: readonly string[];
}

function loadPhoneMetadata(): PhoneMetadata {
  const china = z.object({
    version: z.number(),
    country_calling_codes: z.object({ '86': z.array(z.string()).refine((countries) => countries.includes('CN')) }),
    countries: z.object({ CN: z.array(z.unknown()) }),
  });
  return z
    .object({
      metadata: z.custom<MetadataJson>((value) => china.safeParse(value).success, 'not libphonenumber-js metadata for China (+86)'),
      /** Every country calling code (they are prefix-free: none starts another), to name a foreign number's. */
      callingCodes: z.array(z.string().regex(/^[1-9]\d{0,2}$/)).min(1),
    })
    .parse(phoneMetadataJson);
}

/**
 * Accepts the ways a mainland mobile number is written in practice (`13900000001`, `139 0000 0001`,
 * `+86 139-0000-0001`, `8613900000001`, `008613900000001`, full-width digits) and returns it as E.164.
 */
export function normaliseMainlandMobile(raw: string): PhoneResult {
  // NFKC folds full-width digits and `＋` from Chinese input methods to ASCII.
  const text = raw.normalize('NFKC').trim();
  if (text.length === 0) {
    return fail('手机号为空', 'the phone number is empty');
  }
  if (!ALLOWED.test(text)) {
    const bad = Array.from(text).find((char, i) => !(ALLOWED_CHAR.test(char) && (char !== '+' || i === 0))) ?? '';
    return fail(
      `手机号含有非数字字符 "${bad}"；请只填写数字`,
      `the phone number contains "${bad}", which is not a digit; write digits only`,
    );
  }

  const national = mainlandNationalDigits(text);
  if (national !== undefined && knownMobileBlocks.has(national.slice(0, 7))) {
    return { ok: true, e164: `+86${national}` };
  }

  phoneMetadata ??= loadPhoneMetadata();
  const foreign = foreignCallingCode(text, phoneMetadata.callingCodes);
  if (foreign !== undefined) {
    return fail(
      `不是中国大陆手机号（国家或地区代码 +${foreign}）；短信只能发往中国大陆手机号`,
      `not a mainland China mobile number (country calling code +${foreign}); reminders can only be sent to mainland mobiles`,
    );
  }

  // The mobile metadata knows which CN ranges are mobile; the minimal metadata would accept any 11
  // digits starting with 1. It also parses `86…` without a plus, and `0086…`, as +86. Knowing no other
  // country, it parses every number it returns as +86.
  const parsed = parsePhoneNumberFromString(text, 'CN', phoneMetadata.metadata);
  if (parsed === undefined || parsed.countryCallingCode !== '86') {
    return fail(`“${text}”${NOT_MOBILE_ZH}`, `"${text}" is ${NOT_MOBILE_EN}`);
  }
  const type = parsed.getType();
  if (type === 'MOBILE') {
    if (national !== undefined && parsed.number === `+86${national}`) rememberMobileBlock(national.slice(0, 7));
    return { ok: true, e164: parsed.number };
  }
  // A leading trunk 0 (0797-…, 010 …) marks a landline even when the metadata cannot place the number.
  if (type === 'FIXED_LINE' || withoutCountryCode(text).startsWith('0')) {
    return fail(
      '这是固定电话号码，无法接收短信；请填写手机号',
      'this is a landline number, which cannot receive SMS; give a mobile number',
    );
  }
  // For CN the metadata separates fixed lines from mobiles, so anything that is not MOBILE is refused,
  // including FIXED_LINE_OR_MOBILE and numbers the metadata does not know.
  const nationalNumber = parsed.nationalNumber;
  if (nationalNumber.startsWith('1') && nationalNumber.length !== 11) {
    return fail(
      `手机号应为 11 位，实际为 ${nationalNumber.length} 位`,
      `a mainland mobile number has 11 digits, got ${nationalNumber.length}`,
    );
  }
  if (nationalNumber.startsWith('1')) {
    return fail(
      `${nationalNumber} 不在中国大陆手机号段内；请核对号码`,
      `${nationalNumber} is not in a mainland China mobile number range; check the number`,
    );
  }
  return fail(NOT_MOBILE_ZH, NOT_MOBILE_EN);
}

/** The 11 national digits of a number written as a mainland mobile (with or without +86/0086/86), else undefined. */
function mainlandNationalDigits(text: string): string | undefined {
  const digits = withoutCountryCode(text);
  if (digits.length === 11 && digits.charCodeAt(0) === 49 /* '1' */) return digits;
  if (!text.startsWith('+') && digits.length === 13 && digits.startsWith('861')) return digits.slice(2);
  return undefined;
}

/**
 * The calling code of a number written internationally (`+852 …`, `00852 …`) when it is not 86. The
 * metadata cannot tell it: it knows calling code 86 only.
 */
function foreignCallingCode(text: string, callingCodes: readonly string[]): string | undefined {
  const digits = text.replace(/\D/g, '');
  const international = text.startsWith('+') ? digits : digits.startsWith('00') ? digits.slice(2) : undefined;
  const code = international === undefined ? undefined : callingCodes.find((candidate) => international.startsWith(candidate));
  return code === '86' ? undefined : code;
}

function rememberMobileBlock(block: string): void {
  if (knownMobileBlocks.size >= MAX_KNOWN_BLOCKS) knownMobileBlocks.clear();
  knownMobileBlocks.add(block);
}

function withoutCountryCode(text: string): string {
  const digits = text.replace(/\D/g, '');
  if (text.startsWith('+86')) return digits.slice(2);
  if (digits.startsWith('0086')) return digits.slice(4);
  return digits;
}

/** For logs: `+8613900000001` → `+86139****0001`. Never throws, so it is safe on any string. */
export function maskPhone(e164: string): string {
  const mainland = /^\+86(\d{3})\d{4}(\d{4})$/.exec(e164);
  if (mainland) return `+86${mainland[1]}****${mainland[2]}`;
  // Anything else: keep the last four characters only.
  return e164.length <= 4 ? '****' : `${'*'.repeat(e164.length - 4)}${e164.slice(-4)}`;
}

function fail(zh: string, en: string): { ok: false; reason: string } {
  return { ok: false, reason: `${zh} / ${en}` };
}
