import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chinaPhoneMetadata, PHONE_METADATA_FILE, phoneMetadataFromInstalledPackage } from '../../scripts/phone-metadata.js';

describe('Data: phone-metadata-cn.json', () => {
  it('is what scripts/phone-metadata.ts makes from the installed libphonenumber-js', () => {
    // Prepare
    const committed = readFileSync(PHONE_METADATA_FILE, 'utf8');

    // Act
    const expected = phoneMetadataFromInstalledPackage();

    // Assess
    expect(
      committed === expected,
      'data/phone-metadata-cn.json no longer matches the installed libphonenumber-js: run `npx tsx scripts/phone-metadata.ts` and commit the result',
    ).toBe(true);
  });

  it('keeps only calling code 86 and China in the metadata, and every calling code in the list', () => {
    // Prepare
    const mobile = {
      version: 4,
      country_calling_codes: { '1': ['US', 'CA'], '86': ['CN'], '852': ['HK'] },
      countries: { CN: ['86', '00'], HK: ['852', '001'], US: ['1', '011'] },
      nonGeographic: { '800': ['800'] },
    };

    // Act
    const file = chinaPhoneMetadata(mobile, '9.9.9');

    // Assess
    expect(file).toEqual({
      source: { package: 'libphonenumber-js', version: '9.9.9', file: 'metadata.mobile.json' },
      metadata: { version: 4, country_calling_codes: { '86': ['CN'] }, countries: { CN: ['86', '00'] } },
      callingCodes: ['1', '86', '800', '852'],
    });
  });

  it('refuses metadata without China under calling code 86', () => {
    // Prepare
    const mobile = { version: 4, country_calling_codes: { '852': ['HK'] }, countries: { HK: ['852'] } };

    // Act
    const cut = () => chinaPhoneMetadata(mobile, '9.9.9');

    // Assess
    expect(cut).toThrow('has no CN under calling code 86');
  });
});
