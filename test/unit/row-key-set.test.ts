import { describe, expect, it } from 'vitest';
import { RowKeySet } from '../../functions/core/row-key-set.js';

describe('Class: RowKeySet', () => {
  it('returns the first row of a key seen before, and nothing for a new key', () => {
    // Prepare
    const set = new RowKeySet(4);

    // Act
    const first = set.addOrGetFirstRow('pesticide_business_license#A-1', 2);
    const other = set.addOrGetFirstRow('pesticide_business_license#A-2', 3);
    const again = set.addOrGetFirstRow('pesticide_business_license#A-1', 9);

    // Assess
    expect([first, other, again]).toEqual([undefined, undefined, 2]);
    expect(set.count).toBe(2);
  });

  it('keeps every key distinct while growing to 300,000 keys', () => {
    // Prepare
    const set = new RowKeySet(16);

    // Act
    let falseDuplicates = 0;
    for (let i = 0; i < 300_000; i += 1) if (set.addOrGetFirstRow(`food_business_license#JY${i}`, i + 2) !== undefined) falseDuplicates += 1;
    const repeat = set.addOrGetFirstRow('food_business_license#JY123456', 1);

    // Assess
    expect(falseDuplicates).toBe(0);
    expect(set.count).toBe(300_000);
    expect(repeat).toBe(123_458);
  });
});
