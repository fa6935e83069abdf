import { describe, expect, it } from 'vitest';
import { foldInboundText, KEYWORD_COMMANDS, parseInboundSms, type KeywordCommand } from '../../functions/core/campaigns/inbound.js';

describe('Function: parseInboundSms', () => {
  describe('Booking replies', () => {
    it.each([
      ['ABC123 2', 'the form the notice asks for'],
      ['abc123 2', 'lower case'],
      ['ABC123 第2场', '第…场 around the slot'],
      ['ABC123第2场', '第…场 with no space before it'],
      ['ＡＢＣ１２３　２', 'full-width letters, digits and space'],
      ['ａｂｃ１２３ 第２场', 'full-width lower case with 第…场'],
      ['“ABC123 2”。', 'quotes and a full stop around it'],
      ['【ABC123 2】', 'brackets around it'],
      ['  ABC123   2  ', 'runs of spaces'],
      ['ABC123，2', 'a Chinese comma between code and slot'],
      ['ABC123 2号', 'a 号 after the slot'],
      ['ABC123 第二场', 'a Chinese numeral'],
      ['ABC123 2场次', '场次 after the slot'],
    ])('reads %j (%s) as booking slot 2 with code ABC123', (text) => {
      // Act
      const request = parseInboundSms(text);

      // Assess
      expect(request).toEqual({ kind: 'book', code: 'ABC123', slot: 2 });
    });

    it.each([
      ['XY7K9M 12', 12],
      ['XY7K9M 第十二场', 12],
      ['XY7K9M 第十场', 10],
      ['XY7K9M 第二十场', 20],
    ])('reads the slot number of %j as %i', (text, slot) => {
      // Act & Assess
      expect(parseInboundSms(text)).toEqual({ kind: 'book', code: 'XY7K9M', slot });
    });

    it.each([
      ['ABC1232', 'code and slot run together with no separator'],
      ['ABC12 2', 'a code of 5 characters'],
      ['ABC1234 2', 'a code of 7 characters'],
      ['ABC123 0', 'slot 0'],
      ['ABC123 2 3', 'two slot numbers'],
      ['ABC123', 'a code without a slot'],
    ])('does not guess a booking from %j (%s)', (text) => {
      // Act & Assess
      expect(parseInboundSms(text)).toEqual({ kind: 'other' });
    });
  });

  describe('Cancellations', () => {
    it.each([
      ['取消 ABC123'],
      ['取消ABC123'],
      ['取消 abc123'],
      ['QX ABC123'],
      ['qx abc123'],
      ['Qx ABC123'],
      ['ＱＸ　ＡＢＣ１２３'],
      ['取消预约 ABC123'],
      ['ABC123 取消'],
      ['取消：ABC123。'],
    ])('reads %j as cancelling ABC123', (text) => {
      // Act & Assess
      expect(parseInboundSms(text)).toEqual({ kind: 'cancel', code: 'ABC123' });
    });

    it('does not read a Latin keyword run into the code as a cancellation', () => {
      // Act & Assess
      expect(parseInboundSms('QXABC123')).toEqual({ kind: 'other' });
    });
  });

  describe('Opt-out keywords', () => {
    const KEYWORDS = ['R', 'T', 'TD', 'N', '退订', '拒收', '取消订阅'];
    /** Full width as Chinese input methods type Latin letters (Ａ = U+FF21). */
    const fullWidth = (text: string) => text.replace(/[A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const variants = (keyword: string) => [
      ...new Set([
        keyword,
        keyword.toLowerCase(),
        fullWidth(keyword),
        fullWidth(keyword.toLowerCase()),
        ` ${keyword.toLowerCase()}。`,
        `\u3000${keyword}\u3000`,
        `【${keyword}】`,
        `${keyword}!`,
        `${keyword}！`,
        `“${keyword}”`,
        `${keyword}.`,
      ]),
    ];
    const cases = KEYWORDS.flatMap((keyword) => variants(keyword).map((text) => [text, keyword] as const));

    it.each(cases)('reads %j (keyword %s) as an opt-out', (text) => {
      // Act & Assess
      expect(parseInboundSms(text)).toEqual({ kind: 'optOut' });
    });

    it.each([[' td。'], ['ＴＤ'], ['【退订】'], ['退订!'], ['ｔｄ'], ['Td']])('reads the example %j from the issue as an opt-out', (text) => {
      // Act & Assess
      expect(parseInboundSms(text)).toEqual({ kind: 'optOut' });
    });

    it('still reads 取消 with a code as cancelling that booking, not as 取消订阅', () => {
      // Act & Assess
      expect(parseInboundSms('取消 ABC123')).toEqual({ kind: 'cancel', code: 'ABC123' });
      expect(parseInboundSms('取消ABC123')).toEqual({ kind: 'cancel', code: 'ABC123' });
    });

    it('still reads a booking reply as a booking', () => {
      // Act & Assess
      expect(parseInboundSms('ABC123 2')).toEqual({ kind: 'book', code: 'ABC123', slot: 2 });
      expect(parseInboundSms('TDR123 2')).toEqual({ kind: 'book', code: 'TDR123', slot: 2 });
    });

    it.each([['TDD'], ['RT'], ['NO'], ['退订了吗'], ['我不拒收'], ['T D']])('does not read %j, which only contains a keyword, as an opt-out', (text) => {
      // Act & Assess
      expect(parseInboundSms(text)).toEqual({ kind: 'other' });
    });
  });

  describe('Anything else', () => {
    it.each([[''], ['   '], ['你好'], ['什么时候来？'], ['2'], ['取消'], ['http://x.cn ABC123 2'], ['😀']])('reads %j as other', (text) => {
      // Act & Assess
      expect(parseInboundSms(text)).toEqual({ kind: 'other' });
    });
  });

  describe('Keyword table', () => {
    it('takes a new keyword entry without code changes, matching the longest keyword first', () => {
      // Prepare: the entry the opt-out issue adds
      const commands: KeywordCommand[] = [
        ...KEYWORD_COMMANDS,
        { command: 'optOut', keywords: ['R', 'T', 'TD', 'N', '退订', '拒收', '取消订阅'], argument: 'none' },
      ];

      // Act & Assess
      expect(parseInboundSms('退订', commands)).toEqual({ kind: 'optOut' });
      expect(parseInboundSms('td', commands)).toEqual({ kind: 'optOut' });
      expect(parseInboundSms('取消订阅。', commands)).toEqual({ kind: 'optOut' });
      expect(parseInboundSms('取消 ABC123', commands)).toEqual({ kind: 'cancel', code: 'ABC123' });
      expect(parseInboundSms('ABC123 2', commands)).toEqual({ kind: 'book', code: 'ABC123', slot: 2 });
    });
  });
});

describe('Function: foldInboundText', () => {
  it('folds full width to ASCII, upper-cases and trims punctuation at both ends only', () => {
    // Act & Assess
    expect(foldInboundText('  “ａｂｃ１２３－２”！ ')).toBe('ABC123-2');
  });
});
