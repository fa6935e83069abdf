import { describe, expect, it } from 'vitest';
import { checkSmsSafeText, SMS_SAFE_MAX_LENGTH } from '../../functions/core/sms-safe-text.js';

describe('Function: checkSmsSafeText', () => {
  describe('Kind: certificateNumber', () => {
    it.each([
      ['HX-PEST-0001'],
      ['JY13607320001234'],
      ['农药经许（赣）36073220001'],
      ['赣虔兴危化经字〔2021〕000012'],
      ['(赣)JZ安许证字[2019]012345'],
      ['赣食〔2021〕第0001号'],
      ['兴农药经字第2021001号'],
      ['GB/T-2021/0001'],
      ['DEMO-PESTICIDE_BU-0001'],
    ])('accepts the licence number %s', (number) => {
      // Act & Assess
      expect(checkSmsSafeText('certificateNumber', number)).toBeUndefined();
    });

    it('refuses the phishing number that closed the signature bracket and carried a link', () => {
      // Act
      const problem = checkSmsSafeText('certificateNumber', '】已停用，回复1解除 http://x.cn【');

      // Assess
      expect(problem?.zh).toContain('【】');
      expect(problem?.en).toContain('【】');
    });

    it.each([
      ['a link', 'HX-0001http://x.cn', '网址'],
      ['a bare domain', 'HX-0001.x.cn', '网址'],
      ['a space', 'HX 0001', '空白'],
      ['Chinese punctuation', 'HX，0001', '，'],
      ['a full-width letter', 'ＨＸ0001', 'Ｈ'],
    ])('refuses a number with %s, naming what is wrong', (_what, number, named) => {
      // Act
      const problem = checkSmsSafeText('certificateNumber', number);

      // Assess
      expect(problem?.zh).toContain(named);
    });
  });

  describe('Kind: holderName', () => {
    it.each([['兴国县某农资有限公司'], ['张三'], ['兴国县某某（普通合伙）'], ['阿依古丽·买买提'], ['Xingguo Trading Co., Ltd.']])(
      'accepts the holder name %s',
      (name) => {
        // Act & Assess
        expect(checkSmsSafeText('holderName', name)).toBeUndefined();
      },
    );

    it.each([
      ['a URL', '某公司 https://x.cn/a', '网址'],
      ['a www address', '某公司www.example.com', '网址'],
      ['a domain with a full-width dot', '某公司x。cn', '网址'],
      ['a signature bracket', '【兴国县行政审批局】', '【】'],
      ['a control character', '某公司\u0007', '控制字符'],
      ['a line break', '某公司\n回复1解除', '控制字符'],
      ['a run of spaces', '某公司    回复1解除', '空白'],
      ['a tab', '某公司\t1', '控制字符'],
    ])('refuses a name with %s', (_what, name, named) => {
      // Act
      const problem = checkSmsSafeText('holderName', name);

      // Assess
      expect(problem?.zh).toContain(named);
    });
  });

  describe('Kind: place', () => {
    it('accepts a service-centre window and refuses a place longer than its bound', () => {
      // Act & Assess
      expect(checkSmsSafeText('place', '兴国县政务服务中心2楼')).toBeUndefined();
      expect(checkSmsSafeText('place', '兴'.repeat(SMS_SAFE_MAX_LENGTH.place + 1))?.en).toContain(`at most ${SMS_SAFE_MAX_LENGTH.place}`);
    });
  });
});
