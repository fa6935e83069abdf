/**
 * The strict form of every text that can reach an official SMS: certificate numbers, holder names
 * and (for campaigns) places. A reminder goes out under a government signature, so a value that
 * carries a link, a second 【signature】, line breaks or padding could turn it into a phishing text
 * the county appears to have sent. Such values are refused where they enter the service, with a
 * reason; rendering never rewrites them, so what is stored is exactly what is sent.
 *
 * Pure: the upload and import validation and the campaign feature call it.
 */

export type SmsTextKind = 'certificateNumber' | 'holderName' | 'place';

/** A reason in both languages, without the field's label: the caller names the field. */
export interface SmsTextProblem {
  zh: string;
  en: string;
}

/**
 * Longest accepted value, in characters (code points). Numbers and names keep the bounds uploads
 * always had; a place is part of fixed SMS wording, so it must stay short enough for the budget.
 */
export const SMS_SAFE_MAX_LENGTH: Readonly<Record<SmsTextKind, number>> = {
  certificateNumber: 64,
  holderName: 200,
  place: 30,
};

// Control, format, private-use, unassigned and surrogate code points, and line/paragraph separators.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;
const SIGNATURE_BRACKETS = /[【】]/u;
const URL_MARKERS = /(?:[a-z][a-z0-9+.-]*:\/\/|www\.)/iu;
/**
 * A domain is labels joined by dots ending in a letter label (x.cn, t.cn/abc, example.com.cn).
 * Checked after NFKC folding and with 。and ． read as dots, since phishers write ｘ。ｃｎ to dodge
 * filters. "Co., Ltd." does not match: a comma or space follows its dot.
 */
const DOMAIN_LIKE = /[a-z0-9-]+\.[a-z]{2,}/iu;
/**
 * What real licence numbers use: ASCII letters and digits, - / _ ( ) [ ], the full-width （）,
 * the 〔〕 of document-style numbers (赣虔兴危化经字〔2021〕000012) and Chinese characters
 * (赣, 字第…号).
 */
const NUMBER_CHARACTER = /[A-Za-z0-9\-/_()[\]（）〔〕\p{Script=Han}]/u;
const WHITESPACE = /\s/u;

/** `undefined` when `text` (already trimmed) may go into an SMS as it is; otherwise why not. */
export function checkSmsSafeText(kind: SmsTextKind, text: string): SmsTextProblem | undefined {
  const characters = Array.from(text);
  const max = SMS_SAFE_MAX_LENGTH[kind];
  if (characters.length > max) {
    return {
      zh: `过长（${characters.length} 个字符，最多 ${max} 个），请删减`,
      en: `is too long (${characters.length} characters, at most ${max}); shorten it`,
    };
  }
  const unprintable = characters.findIndex((c) => UNPRINTABLE.test(c));
  if (unprintable >= 0) {
    const codePoint = `U+${characters[unprintable]!.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return {
      zh: `第 ${unprintable + 1} 个字符是不可打印的控制字符（${codePoint}），请删除`,
      en: `has an unprintable character at position ${unprintable + 1} (${codePoint}); remove it`,
    };
  }
  if (SIGNATURE_BRACKETS.test(text)) {
    return {
      zh: '含有【】，短信平台会把它当作短信签名，请删除或改用（）',
      en: 'contains 【】, which carriers read as an SMS signature; remove them or use ( )',
    };
  }
  const address = webAddressIn(text);
  if (address !== undefined) {
    return {
      zh: `含有网址或域名（${JSON.stringify(address)}），不能出现在短信中，请删除`,
      en: `contains a web address or domain (${JSON.stringify(address)}), which must not appear in an SMS; remove it`,
    };
  }
  if (kind === 'certificateNumber') return numberProblem(characters);
  if (/\s{2,}/u.test(text) || /[^\S ]/u.test(text)) {
    return {
      zh: '含有连续空白或全角空格等特殊空白，请只用一个普通空格分隔',
      en: 'contains a run of spaces or a special space (such as a full-width one); separate words with one plain space',
    };
  }
  return undefined;
}

function webAddressIn(text: string): string | undefined {
  const folded = text.normalize('NFKC').replace(/[。．｡]/gu, '.');
  return (URL_MARKERS.exec(folded) ?? DOMAIN_LIKE.exec(folded))?.[0];
}

function numberProblem(characters: readonly string[]): SmsTextProblem | undefined {
  const at = characters.findIndex((c) => !NUMBER_CHARACTER.test(c));
  if (at < 0) return undefined;
  const bad = characters[at]!;
  if (WHITESPACE.test(bad)) {
    return {
      zh: `第 ${at + 1} 个字符是空白，证照编号中不能有空白，请删除`,
      en: `has a space at position ${at + 1}; a certificate number has no spaces, remove it`,
    };
  }
  return {
    zh: `第 ${at + 1} 个字符 "${bad}" 不会出现在证照编号中；编号只能由半角字母、数字、汉字和 - / _ ( ) [ ] （ ） 〔 〕 组成，请核对`,
    en: `has "${bad}" at position ${at + 1}, which licence numbers do not use; a number is made of ASCII letters and digits, Chinese characters and - / _ ( ) [ ] （ ） 〔 〕; check it`,
  };
}
