import { describe, expect, it } from 'vitest';
import type { RenewalWindow } from '../../functions/core/model.js';
import { renewalWindowInWords } from '../../functions/core/renewal-window-text.js';

describe('Function: renewalWindowInWords', () => {
  it.each<{ window: RenewalWindow | null; words: string }>([
    { window: { days: 30, semantics: 'atLeastBefore' }, words: '到期前30日' },
    { window: { workingDays: 30, semantics: 'atLeastBefore' }, words: '到期前30个工作日' },
    { window: { days: 90, semantics: 'withinBefore' }, words: '到期前90日内' },
    { window: { months: 3, semantics: 'atLeastBefore' }, words: '到期前3个月' },
    { window: { from: { days: 60 }, to: { days: 30 }, semantics: 'between' }, words: '到期前60至30日' },
    { window: { from: { months: 6 }, to: { days: 60 }, semantics: 'between' }, words: '到期前6个月至60日' },
    { window: { beforeDeadline: true, semantics: 'atLeastBefore' }, words: '期限届满前' },
    { window: null, words: '未规定 / none stated' },
  ])('says $words for $window', ({ window, words }) => {
    // Act
    const text = renewalWindowInWords(window);

    // Assess
    expect(text).toBe(words);
  });
});
