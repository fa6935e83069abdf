import { describe, expect, it } from 'vitest';
import { residentIdCheckCharacter, usccCheckCharacter, validateHolderId } from '../../functions/core/holder-id.js';
import { withResidentIdCheck, withUsccCheck, withWrongCheck } from '../support/holder-ids.js';

describe('Function: validateHolderId', () => {
  describe('unified social credit codes (GB 32100-2015)', () => {
    it('accepts the published example 91350100M000100Y43', () => {
      // Act
      const result = validateHolderId('91350100M000100Y43');

      // Assess
      expect(result).toEqual({ ok: true, kind: 'uscc', value: '91350100M000100Y43' });
    });

    it.each([
      ['an enterprise in Xingguo', withUsccCheck('91360732MA35A1B2C')],
      ['a code whose check character is 0 (31 maps to 0)', '91360732MA35A140B0'],
      ['a social organisation', withUsccCheck('51360732MJD12345X')],
      ['a code of digits only, which could be mistaken for an identity number', '523607321000000072'],
    ])('accepts %s', (_label, code) => {
      // Act
      const result = validateHolderId(code);

      // Assess
      expect(result).toEqual({ ok: true, kind: 'uscc', value: code });
    });

    it('rejects a unified social credit code whose check character is wrong', () => {
      // Prepare
      const wrong = withWrongCheck(withUsccCheck('91360732MA35A1B2C'));

      // Act
      const result = validateHolderId(wrong);

      // Assess
      expect(result).toEqual({
        ok: false,
        reason: '统一社会信用代码校验位错误（应为 W） / unified social credit code check character is wrong (expected W)',
      });
    });

    it('names the position of a letter the charset leaves out and the digit it was probably meant to be', () => {
      // Act
      const result = validateHolderId('91350100MOOO100Y43');

      // Assess
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toContain('第 10 位 "O" 不是允许的字符');
      expect(!result.ok && result.reason).toContain('did you mean 0?');
    });

    it('rejects a code whose administrative division (characters 3–8) is not six digits', () => {
      // Prepare
      const code = withUsccCheck('9136A732MA35A1B2C');

      // Act
      const result = validateHolderId(code);

      // Assess
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toContain('第 3–8 位应为行政区划代码');
    });

    it('rejects a code whose registration authority is 0', () => {
      // Prepare
      const code = withUsccCheck('01360732MA35A1B2C');

      // Act
      const result = validateHolderId(code);

      // Assess
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toContain('登记管理部门');
    });
  });

  describe('resident identity numbers (GB 11643-1999)', () => {
    it('accepts the standard sample 11010519491231002X', () => {
      // Act
      const result = validateHolderId('11010519491231002X');

      // Assess
      expect(result).toEqual({ ok: true, kind: 'residentId', value: '11010519491231002X' });
    });

    it('accepts a lower-case x and returns it as X', () => {
      // Act
      const result = validateHolderId('11010519491231002x');

      // Assess
      expect(result).toEqual({ ok: true, kind: 'residentId', value: '11010519491231002X' });
    });

    it('accepts 29 February of a leap year', () => {
      // Prepare
      const id = withResidentIdCheck('36073220000229002');

      // Act
      const result = validateHolderId(id);

      // Assess
      expect(result).toEqual({ ok: true, kind: 'residentId', value: id });
    });

    it('rejects a number whose check digit is wrong and says which it should be', () => {
      // Prepare
      const id = withResidentIdCheck('36073219850615123');

      // Act
      const result = validateHolderId(withWrongCheck(id));

      // Assess
      expect(result).toEqual({
        ok: false,
        reason: '居民身份证号码校验位错误（应为 4） / resident identity number check digit is wrong (expected 4)',
      });
    });

    it('rejects a birth date that does not exist (1900 was not a leap year)', () => {
      // Prepare
      const id = withResidentIdCheck('36073219000229002');

      // Act
      const result = validateHolderId(id);

      // Assess
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toContain('出生日期 1900-02-29 不存在');
      expect(!result.ok && result.reason).toContain('birth date 1900-02-29 does not exist');
    });

    it('asks for the 18-character number when given an old 15-digit one', () => {
      // Act
      const result = validateHolderId('110105491231002');

      // Assess
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toContain('18 位居民身份证号码');
    });
  });

  describe('normalisation', () => {
    it('folds full-width characters, trims, drops inner spaces and upper-cases', () => {
      // Act
      const result = validateHolderId('  ９１３５０１００ｍ０００１００ｙ４３\u3000');

      // Assess
      expect(result).toEqual({ ok: true, kind: 'uscc', value: '91350100M000100Y43' });
    });

    it('rejects an empty value', () => {
      // Act
      const result = validateHolderId('   ');

      // Assess
      expect(result).toEqual({ ok: false, reason: '证件号码为空 / the identifier is empty' });
    });

    it('rejects a value of the wrong length, stating the length found', () => {
      // Act
      const result = validateHolderId('91350100M000100Y4');

      // Assess
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toContain('实际为 17 位');
    });
  });
});

describe('Function: usccCheckCharacter', () => {
  it('agrees with the independent fixture implementation', () => {
    // Prepare
    const bodies = ['91350100M000100Y4', '91360732MA35A1B2C', '12100000400000162', 'Y1110000MA0000000'];

    // Act
    const computed = bodies.map((body) => body + usccCheckCharacter(body));

    // Assess
    expect(computed).toEqual(bodies.map(withUsccCheck));
  });

  it('returns undefined for characters outside the charset', () => {
    // Act & Assess
    expect(usccCheckCharacter('91350100M000100I4')).toBeUndefined();
  });
});

describe('Function: residentIdCheckCharacter', () => {
  it('maps a remainder of 2 to X', () => {
    // Act & Assess
    expect(residentIdCheckCharacter('11010519491231002')).toBe('X');
  });
});
