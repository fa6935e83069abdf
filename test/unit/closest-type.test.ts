import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogueFileSchema } from '../../functions/core/catalogue.js';
import { closestType } from '../../functions/core/closest-type.js';

const types = catalogueFileSchema.parse(JSON.parse(readFileSync(new URL('../../data/catalogue.json', import.meta.url), 'utf8'))).types;

describe('Function: closestType', () => {
  it.each([
    { input: '食品经营许可', code: 'food_business_license', why: 'a character left out' },
    { input: '食品经营许可证书', code: 'food_business_license', why: 'a character added' },
    { input: '食品 经营许可证', code: 'food_business_license', why: 'a stray space' },
    { input: '药品经营许可证', code: 'drug_retail_license', why: 'the bracketed qualifier left out of 药品经营许可证（零售）' },
    { input: 'pesticide_busines_license', code: 'pesticide_business_license', why: 'a typing slip in the code' },
    { input: 'PESTICIDE_BUSINESS_LICENCE', code: 'pesticide_business_license', why: 'the code in capitals and British spelling' },
    { input: '排污许可', code: 'pollutant_discharge_permit', why: 'the name shortened' },
  ])('suggests $code for "$input" ($why)', ({ input, code }) => {
    // Act
    const suggestion = closestType(input, types);

    // Assess
    expect(suggestion?.code).toBe(code);
  });

  it.each(['x', '营业执照', '1234567'])('suggests nothing for "%s", which resembles no catalogue type', (input) => {
    // Act
    const suggestion = closestType(input, types);

    // Assess
    expect(suggestion).toBeUndefined();
  });
});
