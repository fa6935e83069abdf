import { describe, expect, it } from 'vitest';
import { retentionCutoff } from '../../functions/core/retention.js';
import { settingsFromEnvironment } from '../../functions/app/settings.js';
import { at } from '../support/fixtures.js';

describe('Function: retentionCutoff', () => {
  it('is the same day of the year, that many years back, in Asia/Shanghai', () => {
    // Act & Assess
    expect(retentionCutoff(at('2026-12-01T03:00:00+08:00'), 5)).toBe('2021-12-01');
    // 2026-12-31T17:00Z is already 1 January in Beijing.
    expect(retentionCutoff(at('2026-12-31T17:00:00Z'), 5)).toBe('2022-01-01');
  });

  it('takes 28 February for 29 February when the year it lands in has none', () => {
    // Act & Assess
    expect(retentionCutoff(at('2028-02-29T10:00:00+08:00'), 5)).toBe('2023-02-28');
    expect(retentionCutoff(at('2028-02-29T10:00:00+08:00'), 4)).toBe('2024-02-29');
  });
});

describe('Setting: CERTALARM_RETENTION_YEARS', () => {
  it('defaults to 5 years and takes a whole number of years', () => {
    // Act & Assess
    expect(settingsFromEnvironment({}).retentionYears).toBe(5);
    expect(settingsFromEnvironment({ CERTALARM_RETENTION_YEARS: '10' }).retentionYears).toBe(10);
  });

  it('refuses 0 and fractions, naming the variable', () => {
    // Act & Assess
    expect(() => settingsFromEnvironment({ CERTALARM_RETENTION_YEARS: '0' })).toThrow('CERTALARM_RETENTION_YEARS: keep certificates at least 1 year past their expiry');
    expect(() => settingsFromEnvironment({ CERTALARM_RETENTION_YEARS: '2.5' })).toThrow('CERTALARM_RETENTION_YEARS');
  });
});
