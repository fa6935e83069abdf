import { describe, expect, it } from 'vitest';
import { maskPhone, normaliseMainlandMobile } from '../../functions/core/phone.js';

describe('Function: normaliseMainlandMobile', () => {
  it.each([
    ['plain 11 digits', '13900000001'],
    ['digits grouped with spaces', '139 0000 0001'],
    ['+86 with hyphens', '+86 139-0000-0001'],
    ['86 without a plus', '8613900000001'],
    ['the 0086 international prefix', '0086 139 0000 0001'],
    ['full-width digits from a Chinese input method', '１３９０００００００１'],
    ['a full-width plus', '＋８６ １３９ ００００ ０００１'],
    ['surrounding whitespace', '  13900000001\t'],
  ])('accepts %s', (_label, raw) => {
    // Act
    const result = normaliseMainlandMobile(raw);

    // Assess
    expect(result).toEqual({ ok: true, e164: '+8613900000001' });
  });

  it.each(['19912345678', '16612345678', '14712345678', '17012345678'])('accepts the mobile range of %s', (raw) => {
    // Act
    const result = normaliseMainlandMobile(raw);

    // Assess
    expect(result).toEqual({ ok: true, e164: `+86${raw}` });
  });

  it.each([
    ['a Xingguo landline with its area code', '0797-5321234'],
    ['a Beijing landline', '010 6552 9988'],
  ])('rejects %s because a landline cannot receive SMS', (_label, raw) => {
    // Act
    const result = normaliseMainlandMobile(raw);

    // Assess
    expect(result).toEqual({
      ok: false,
      reason: '这是固定电话号码，无法接收短信；请填写手机号 / this is a landline number, which cannot receive SMS; give a mobile number',
    });
  });

  it.each([
    ['Hong Kong', '+852 9123 4567', '+852'],
    ['the United States', '+1 202 555 0123', '+1'],
    ['Hong Kong, dialled with the 00 prefix', '00852 9123 4567', '+852'],
  ])('rejects a mobile number from %s', (_label, raw, callingCode) => {
    // Act
    const result = normaliseMainlandMobile(raw);

    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(`不是中国大陆手机号（国家或地区代码 ${callingCode}）`);
  });

  it.each([
    ['10 digits', '1390000000', 10],
    ['12 digits', '139000000012', 12],
  ])('rejects a number of %s, stating the length found', (_label, raw, length) => {
    // Act
    const result = normaliseMainlandMobile(raw);

    // Assess
    expect(result).toEqual({
      ok: false,
      reason: `手机号应为 11 位，实际为 ${length} 位 / a mainland mobile number has 11 digits, got ${length}`,
    });
  });

  it.each(['12000000001', '10000000000', '14000000000'])('rejects %s, which is in no mobile range', (raw) => {
    // Act
    const result = normaliseMainlandMobile(raw);

    // Assess
    expect(result).toEqual({
      ok: false,
      reason: `${raw} 不在中国大陆手机号段内；请核对号码 / ${raw} is not in a mainland China mobile number range; check the number`,
    });
  });

  it('tells apart two blocks of the same prefix, also after the first has been seen', () => {
    // Prepare: 17405xx is a mobile block, 17406xx is not.
    normaliseMainlandMobile('17405000001');

    // Act
    const mobile = normaliseMainlandMobile('17405009999');
    const notMobile = normaliseMainlandMobile('17406000001');

    // Assess
    expect(mobile).toEqual({ ok: true, e164: '+8617405009999' });
    expect(notMobile.ok).toBe(false);
  });

  it('still rejects a wrong length in a block it has already seen', () => {
    // Prepare
    normaliseMainlandMobile('13900000001');

    // Act
    const result = normaliseMainlandMobile('1390000000');

    // Assess
    expect(result.ok).toBe(false);
  });

  it('names a letter typed in place of a digit', () => {
    // Act
    const result = normaliseMainlandMobile('139O0000001');

    // Assess
    expect(result).toEqual({
      ok: false,
      reason: '手机号含有非数字字符 "O"；请只填写数字 / the phone number contains "O", which is not a digit; write digits only',
    });
  });

  it('rejects a plus sign in the middle of the number', () => {
    // Act
    const result = normaliseMainlandMobile('139+00000001');

    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain('"+"');
  });

  it('rejects an empty value', () => {
    // Act
    const result = normaliseMainlandMobile('  ');

    // Assess
    expect(result).toEqual({ ok: false, reason: '手机号为空 / the phone number is empty' });
  });

  it('rejects digits that form no number at all', () => {
    // Act
    const result = normaliseMainlandMobile('1');

    // Assess
    expect(result).toEqual({ ok: false, reason: '“1”不是有效的中国大陆手机号 / "1" is not a valid mainland China mobile number' });
  });
});

describe('Function: maskPhone', () => {
  it('keeps the network prefix and the last four digits of a mainland number', () => {
    // Act & Assess
    expect(maskPhone('+8613900000001')).toBe('+86139****0001');
  });

  it('keeps only the last four characters of anything else', () => {
    // Act & Assess
    expect(maskPhone('+12025550123')).toBe('********0123');
    expect(maskPhone('12')).toBe('****');
  });
});
