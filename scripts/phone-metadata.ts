/**
 * Writes data/phone-metadata-cn.json: the part of libphonenumber-js's mobile metadata that
 * functions/core/phone.ts needs. Reminders go to mainland China mobiles only, and the full mobile
 * metadata (every country, ~96 KiB) would otherwise be bundled into each Lambda function.
 *
 * The file holds:
 *   - `source`: the libphonenumber-js version and metadata file it was cut from;
 *   - `metadata`: libphonenumber-js metadata (format `version`, calling code 86, country CN), for its
 *     `core` functions;
 *   - `callingCodes`: every country calling code, so that a foreign number is refused naming its code
 *     although the metadata knows no other country.
 *
 *   npx tsx scripts/phone-metadata.ts
 *
 * Rerun it after upgrading libphonenumber-js: test/unit/phone-metadata.test.ts fails until the committed
 * file matches what this script makes from the installed package.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PHONE_METADATA_FILE = fileURLToPath(new URL('../data/phone-metadata-cn.json', import.meta.url));
const MOBILE_METADATA = 'metadata.mobile.json';

/** The parts of libphonenumber-js's metadata JSON this script reads. */
interface MobileMetadataJson {
  version: number;
  country_calling_codes: Record<string, string[]>;
  countries: Record<string, unknown>;
  nonGeographic?: Record<string, unknown>;
}

export interface PhoneMetadataFile {
  source: { package: 'libphonenumber-js'; version: string; file: string };
  metadata: {
    version: number;
    country_calling_codes: { '86': string[] };
    countries: { CN: unknown };
  };
  callingCodes: string[];
}

/** Mainland China's slice of the mobile metadata of libphonenumber-js `version`. */
export function chinaPhoneMetadata(mobile: MobileMetadataJson, version: string): PhoneMetadataFile {
  const callingCode86 = mobile.country_calling_codes['86'];
  const china = mobile.countries.CN;
  if (callingCode86 === undefined || !callingCode86.includes('CN') || china === undefined) {
    throw new Error(`libphonenumber-js ${version}: ${MOBILE_METADATA} has no CN under calling code 86`);
  }
  const callingCodes = [...new Set([...Object.keys(mobile.country_calling_codes), ...Object.keys(mobile.nonGeographic ?? {})])];
  return {
    source: { package: 'libphonenumber-js', version, file: MOBILE_METADATA },
    metadata: {
      version: mobile.version,
      country_calling_codes: { '86': callingCode86 },
      countries: { CN: china },
    },
    callingCodes: callingCodes.sort((a, b) => Number(a) - Number(b)),
  };
}

/** The file's text, as committed. */
export function renderPhoneMetadata(file: PhoneMetadataFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** What the script writes, made from the libphonenumber-js installed in node_modules. */
export function phoneMetadataFromInstalledPackage(): string {
  const require = createRequire(import.meta.url);
  const { version } = JSON.parse(readFileSync(require.resolve('libphonenumber-js/package.json'), 'utf8')) as { version: string };
  const mobile = JSON.parse(readFileSync(require.resolve(`libphonenumber-js/${MOBILE_METADATA}`), 'utf8')) as MobileMetadataJson;
  return renderPhoneMetadata(chinaPhoneMetadata(mobile, version));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = phoneMetadataFromInstalledPackage();
  writeFileSync(PHONE_METADATA_FILE, text);
  console.log(`wrote ${PHONE_METADATA_FILE} (${Buffer.byteLength(text)} bytes)`);
}
