/**
 * What a holder's SMS reply to a campaign notice asks for. Farmers reply from feature phones and
 * Chinese input methods: full-width letters and digits, a full-width space, lower case, a 第…场
 * around the slot number and a stray 。or quote at either end are all ordinary, so the text is
 * folded (NFKC, upper case) and trimmed before it is read.
 *
 * Keyword commands are a table, not code paths: the opt-out issue adds
 * `{ command: 'optOut', keywords: ['R', 'T', 'TD', 'N', '退订', '拒收', '取消订阅'], argument: 'none' }`
 * as one more entry. Keywords are matched longest first, so 取消订阅 is never read as 取消.
 *
 * Pure: the inbound-message use case calls it.
 */

/** A keyword command's argument: a booking code (`取消 ABC123`), or nothing (a bare word such as 退订). */
export type KeywordArgument = 'code' | 'none';

export interface KeywordCommand<C extends string = string> {
  command: C;
  /** Upper case after NFKC folding; matched as the whole first (or, with a code, last) word. */
  keywords: readonly string[];
  argument: KeywordArgument;
}

export const KEYWORD_COMMANDS = [
  { command: 'cancel', keywords: ['取消', 'QX', '取消预约'], argument: 'code' },
  // The usual opt-out words of Chinese SMS (退订 回T / 回TD / 回N / 回R); the whole reply must be the word.
  { command: 'optOut', keywords: ['R', 'T', 'TD', 'N', '退订', '拒收', '取消订阅'], argument: 'none' },
] as const satisfies readonly KeywordCommand[];

type Commands = (typeof KEYWORD_COMMANDS)[number];
type CodeCommand = Extract<Commands, { argument: 'code' }>['command'];
type BareCommand = Extract<Commands, { argument: 'none' }>['command'];

export type InboundRequest =
  | { kind: 'book'; code: string; slot: number }
  | { kind: CodeCommand; code: string }
  | { kind: BareCommand }
  | { kind: 'other' };

/** Booking codes are 6 letters and digits; which ones exist is the store's question, not the parser's. */
const CODE = '[A-Z0-9]{6}';
const SEPARATOR = '[\\s,，、:：;；#＃.。\\-—_/]';
/** A slot number, alone or inside 第…场 / 第…场次 / …号 (Arabic digits or 一 to 九十九). */
const SLOT = '(?:第\\s*)?([0-9]{1,2}|[一二三四五六七八九十两]{1,3})\\s*(?:场次|场|号)?';
const BOOKING = new RegExp(`^(${CODE})(?:${SEPARATOR}+|(?=第))${SLOT}$`, 'u');
/** Leading and trailing punctuation, symbols and spaces (quotes, 。, 【】, emoji…). */
const EDGES = /^[\p{P}\p{S}\p{Z}\s]+|[\p{P}\p{S}\p{Z}\s]+$/gu;

/** The reply as the parser reads it: NFKC-folded (full width → ASCII), upper case, trimmed of punctuation. */
export function foldInboundText(text: string): string {
  return text.normalize('NFKC').toUpperCase().replace(EDGES, '');
}

/** Reads one inbound SMS; anything it does not recognise is `other` (the caller may send help). */
export function parseInboundSms(text: string, commands: readonly KeywordCommand[] = KEYWORD_COMMANDS): InboundRequest {
  const folded = foldInboundText(text);
  const keyword = matchKeyword(folded, commands);
  if (keyword !== undefined) return keyword;
  const booking = BOOKING.exec(folded);
  if (booking !== null) {
    const slot = slotNumber(booking[2]!);
    if (slot !== undefined && slot >= 1) return { kind: 'book', code: booking[1]!, slot };
  }
  return { kind: 'other' };
}

function matchKeyword(folded: string, commands: readonly KeywordCommand[]): InboundRequest | undefined {
  const byLength = commands
    .flatMap((entry) => entry.keywords.map((keyword) => ({ entry, keyword })))
    .sort((a, b) => b.keyword.length - a.keyword.length);
  for (const { entry, keyword } of byLength) {
    if (entry.argument === 'none') {
      if (folded === keyword) return { kind: entry.command } as InboundRequest;
      continue;
    }
    const code = codeAround(folded, keyword);
    if (code !== undefined) return { kind: entry.command, code } as InboundRequest;
  }
  return undefined;
}

/**
 * The code in `取消 ABC123`, `取消ABC123` or `ABC123 取消`. A Latin keyword (QX) needs a separator
 * before the code, since `QXABC12` could as well be a mistyped code.
 */
function codeAround(folded: string, keyword: string): string | undefined {
  const word = escapeRegExp(keyword);
  const joiner = /^[A-Z0-9]+$/u.test(keyword) ? `${SEPARATOR}+` : `${SEPARATOR}*`;
  const before = new RegExp(`^${word}${joiner}(${CODE})$`, 'u').exec(folded);
  if (before !== null) return before[1];
  const after = new RegExp(`^(${CODE})${joiner}${word}$`, 'u').exec(folded);
  return after?.[1];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}

const CHINESE_DIGITS: Readonly<Record<string, number>> = {
  一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9,
};

/** `2` → 2, `二` → 2, `十二` → 12, `二十` → 20; anything else undefined. */
function slotNumber(text: string): number | undefined {
  if (/^[0-9]+$/u.test(text)) return Number(text);
  const match = /^([一二两三四五六七八九])?(十)?([一二三四五六七八九])?$/u.exec(text);
  if (match === null || text === '') return undefined;
  const [, tens, ten, units] = match;
  if (ten === undefined) return tens !== undefined && units === undefined ? CHINESE_DIGITS[tens] : undefined;
  return (tens === undefined ? 1 : CHINESE_DIGITS[tens]!) * 10 + (units === undefined ? 0 : CHINESE_DIGITS[units]!);
}
