import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReferenceData, chineseDaysYears, loadReferenceData } from '../../functions/app/reference-data.js';
import { ReferenceDataError } from '../../functions/core/errors.js';
import { YEAR_2026 } from '../support/calendar-2026.js';

const DATA_DIR = fileURLToPath(new URL('../../data/', import.meta.url));
const FIXTURE_2099 = fileURLToPath(new URL('../fixtures/holidays/2099.json', import.meta.url));

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the real data directory, to add or break one file in. */
function copyOfDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'certalarm-data-'));
  scratchDirs.push(dir);
  for (const name of ['catalogue.json', 'townships.json', 'authorities.json']) {
    copyFileSync(path.join(DATA_DIR, name), path.join(dir, name));
  }
  mkdirSync(path.join(dir, 'holidays'));
  return dir;
}

function readDataJson(name: string): unknown {
  return JSON.parse(readFileSync(path.join(DATA_DIR, name), 'utf8'));
}

describe('Function: loadReferenceData', () => {
  it('finds data/ next to the code whatever the working directory', () => {
    // Prepare
    const cwd = process.cwd();
    process.chdir(tmpdir());

    // Act
    let reference;
    try {
      reference = loadReferenceData();
    } finally {
      process.chdir(cwd);
    }

    // Assess
    expect(reference.catalogue.all()).toHaveLength(42);
    expect(reference.townships.all()).toHaveLength(25);
    expect(reference.authorities.map((a) => a.code)).toContain('market_regulation');
  });

  it('loads once per process and hands every caller the same frozen data', () => {
    // Act
    const first = loadReferenceData();
    const second = loadReferenceData();

    // Assess
    expect(second).toBe(first);
    expect(Object.isFrozen(first.catalogue.get('food_business_license'))).toBe(true);
    expect(Object.isFrozen(first.authorities)).toBe(true);
  });

  it('takes every year chinese-days covers, 2004 through 2026', () => {
    // Act
    const { calendar } = loadReferenceData();

    // Assess
    expect(calendar.coveredYears()).toEqual(Array.from({ length: 23 }, (_, i) => 2004 + i));
    expect(calendar.sourceOf(2026)).toMatch(/^chinese-days \d+\.\d+\.\d+$/);
  });

  it('knows the 2026 National Day break and its make-up Saturday from chinese-days', () => {
    // Act
    const { calendar } = loadReferenceData();

    // Assess
    expect(calendar.isWorkingDay('2026-10-01')).toEqual({ working: false, provisional: false });
    expect(calendar.isWorkingDay('2026-10-10')).toEqual({ working: true, provisional: false });
    expect(calendar.isWorkingDay('2026-10-17')).toEqual({ working: false, provisional: false });
    expect(calendar.isWorkingDay('2026-02-14')).toEqual({ working: true, provisional: false });
  });

  it('answers 2027 as provisional Mon–Fri while no year file covers it', () => {
    // Act
    const { calendar } = loadReferenceData();

    // Assess
    expect(calendar.isWorkingDay('2027-01-01')).toEqual({ working: true, provisional: true });
  });

  it('extends the calendar with a year file dropped into holidays/, with no code change', () => {
    // Prepare
    const dataDir = copyOfDataDir();
    copyFileSync(FIXTURE_2099, path.join(dataDir, 'holidays', '2099.json'));

    // Act
    const { calendar } = loadReferenceData({ dataDir });

    // Assess
    expect(calendar.coveredYears()).toContain(2099);
    expect(calendar.isWorkingDay('2099-10-01')).toEqual({ working: false, provisional: false });
    expect(calendar.isWorkingDay('2099-10-10')).toEqual({ working: true, provisional: false });
    expect(calendar.isWorkingDay('2099-10-08')).toEqual({ working: true, provisional: false });
    expect(calendar.isWorkingDay('2098-10-01')).toEqual({ working: true, provisional: true });
  });

  it('lets a year file replace chinese-days for its year entirely', () => {
    // Prepare: a corrected 2026 that, unlike chinese-days, makes 2026-12-31 a day off.
    const dataDir = copyOfDataDir();
    const corrected = { year: 2026, holidays: ['2026-10-01', '2026-12-31'], workdays: [], source: 'correction test' };
    writeFileSync(path.join(dataDir, 'holidays', '2026.json'), JSON.stringify(corrected));

    // Act
    const { calendar } = loadReferenceData({ dataDir });

    // Assess
    expect(calendar.sourceOf(2026)).toBe('correction test');
    expect(calendar.isWorkingDay('2026-12-31').working).toBe(false);
    // chinese-days' make-up Saturday is gone: the file is the whole truth for its year.
    expect(calendar.isWorkingDay('2026-10-10').working).toBe(false);
    expect(calendar.sourceOf(2025)).toMatch(/^chinese-days/);
  });

  it('rejects a malformed townships file with a ReferenceDataError naming the file and the field', () => {
    // Prepare
    const dataDir = copyOfDataDir();
    const townships = readDataJson('townships.json') as { townships: Record<string, unknown>[] };
    delete townships.townships[3]?.slug;
    const file = path.join(dataDir, 'townships.json');
    writeFileSync(file, JSON.stringify(townships));

    // Act
    const act = (): unknown => loadReferenceData({ dataDir });

    // Assess
    expect(act).toThrow(ReferenceDataError);
    expect(act).toThrow(`${file}: townships[3].slug:`);
  });

  it('rejects a file that is not JSON, naming the file', () => {
    // Prepare
    const dataDir = copyOfDataDir();
    const file = path.join(dataDir, 'catalogue.json');
    writeFileSync(file, '{ "version": "2026-11", ');

    // Act
    const act = (): unknown => loadReferenceData({ dataDir });

    // Assess
    expect(act).toThrow(ReferenceDataError);
    expect(act).toThrow(`${file}: is not valid JSON`);
  });

  it('rejects a year file whose year is not the one in its name', () => {
    // Prepare
    const dataDir = copyOfDataDir();
    const file = path.join(dataDir, 'holidays', '2098.json');
    copyFileSync(FIXTURE_2099, file);

    // Act
    const act = (): unknown => loadReferenceData({ dataDir });

    // Assess
    expect(act).toThrow(`${file}: year: must be 2098`);
  });

  it('rejects a holiday file not named <year>.json', () => {
    // Prepare
    const dataDir = copyOfDataDir();
    const file = path.join(dataDir, 'holidays', '2099-draft.json');
    copyFileSync(FIXTURE_2099, file);

    // Act
    const act = (): unknown => loadReferenceData({ dataDir });

    // Assess
    expect(act).toThrow(`${file}: a holiday file must be named <year>.json`);
  });

  it('rejects a year file with a make-up workday on a weekday', () => {
    // Prepare: 2099-10-09 is a Friday.
    const dataDir = copyOfDataDir();
    const file = path.join(dataDir, 'holidays', '2099.json');
    writeFileSync(file, JSON.stringify({ year: 2099, holidays: [], workdays: ['2099-10-09'], source: 'test' }));

    // Act
    const act = (): unknown => loadReferenceData({ dataDir });

    // Assess
    expect(act).toThrow(`${file}: workdays[0]: 2099-10-09 is a weekday`);
  });
});

describe('Function: chineseDaysYears', () => {
  it('reads 2026 exactly as the State Council notice lists it, in any process time zone', () => {
    // Act: the bundled data is keyed by date strings, so no zone can shift a day.
    const year2026 = chineseDaysYears().find((year) => year.year === 2026);

    // Assess
    expect(year2026?.holidays).toEqual(YEAR_2026.holidays);
    expect(year2026?.workdays).toEqual(YEAR_2026.workdays);
  });
});

describe('Function: buildReferenceData', () => {
  it('builds the same reference data from already-imported JSON, as a bundled Lambda does', () => {
    // Prepare
    const json = {
      catalogueJson: readDataJson('catalogue.json'),
      townshipsJson: readDataJson('townships.json'),
      authoritiesJson: readDataJson('authorities.json'),
      extraYears: [JSON.parse(readFileSync(FIXTURE_2099, 'utf8')) as unknown],
    };

    // Act
    const reference = buildReferenceData(json);

    // Assess
    expect(reference.catalogue.version).toBe('2026-11');
    expect(reference.townships.resolve('古龙岗镇')?.code).toBe('360732102');
    expect(reference.calendar.isWorkingDay('2099-10-01')).toEqual({ working: false, provisional: false });
  });

  it('rejects a catalogue type whose authority authorities.json does not define', () => {
    // Prepare
    const catalogueJson = readDataJson('catalogue.json') as { types: { authority: string }[] };
    const first = catalogueJson.types[0];
    if (first === undefined) throw new Error('catalogue has no types');
    first.authority = 'ministry_of_magic';

    // Act
    const act = (): unknown =>
      buildReferenceData({
        catalogueJson,
        townshipsJson: readDataJson('townships.json'),
        authoritiesJson: readDataJson('authorities.json'),
      });

    // Assess
    expect(act).toThrow(ReferenceDataError);
    expect(act).toThrow('catalogue.json: types[0].authority: "ministry_of_magic" is not an authority code in authorities.json');
  });

  it('rejects two holiday files for the same year', () => {
    // Prepare
    const year = JSON.parse(readFileSync(FIXTURE_2099, 'utf8')) as unknown;

    // Act
    const act = (): unknown =>
      buildReferenceData({
        catalogueJson: readDataJson('catalogue.json'),
        townshipsJson: readDataJson('townships.json'),
        authoritiesJson: readDataJson('authorities.json'),
        extraYears: [year, year],
      });

    // Assess
    expect(act).toThrow('holiday year file #2: year 2099 is given by another holiday file too');
  });
});
