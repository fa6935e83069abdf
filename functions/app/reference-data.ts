/**
 * Loads the reference data (catalogue, authorities, townships, working-day calendar), validates
 * it, and builds the core's lookups. The service must not start on bad reference data, so every
 * problem is a `ReferenceDataError` naming the file and the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import chineseDaysData from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import chineseDaysPackage from 'chinese-days/package.json' with { type: 'json' };
import * as z from 'zod';
import { calendarYearSchema, WorkingDayCalendar, type CalendarYear } from '../core/calendar.js';
import {
  authoritiesFileSchema,
  Catalogue,
  catalogueFileSchema,
  parseReference,
  Townships,
  townshipsFileSchema,
} from '../core/catalogue.js';
import { ReferenceDataError } from '../core/errors.js';
import type { Authority } from '../core/model.js';

export interface ReferenceData {
  catalogue: Catalogue;
  townships: Townships;
  /** Shared by every caller in the process, so frozen. */
  authorities: Authority[];
  calendar: WorkingDayCalendar;
  /** The bundled holiday years behind `calendar`; they seed the store, where operators' loads also live. */
  calendarYears: readonly CalendarYear[];
}

/** The reference files as already-imported JSON, for a bundle that cannot read `data/` at run time. */
export interface ReferenceDataJson {
  catalogueJson: unknown;
  townshipsJson: unknown;
  authoritiesJson: unknown;
  /** Holiday year files (`data/holidays/<year>.json`); each replaces chinese-days for its year. */
  extraYears?: readonly unknown[];
}

/** What to call each input in error messages: the file it came from, when there is one. */
export interface ReferenceSourceNames {
  catalogue?: string;
  townships?: string;
  authorities?: string;
  extraYears?: readonly string[];
}

const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../data/', import.meta.url));
const YEAR_FILE = /^(\d{4})\.json$/;

const cache = new Map<string, ReferenceData>();

/**
 * Reads `<dataDir>/catalogue.json`, `townships.json`, `authorities.json` and every
 * `holidays/<year>.json`. The result is cached per data directory for the life of the process.
 */
export function loadReferenceData(options: { dataDir?: string } = {}): ReferenceData {
  const dataDir = path.resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const cached = cache.get(dataDir);
  if (cached !== undefined) return cached;

  const file = (name: string): string => path.join(dataDir, name);
  const yearFiles = listYearFiles(file('holidays'));
  const extraYears = yearFiles.map((yearFile) => {
    const year = parseReference(calendarYearSchema, readJson(yearFile.path), yearFile.path);
    // A file named for one year but holding another would silently shadow the wrong year.
    if (year.year !== yearFile.year) {
      throw new ReferenceDataError(`${yearFile.path}: year: must be ${yearFile.year}, the year in the file name`);
    }
    return year;
  });
  const reference = buildReferenceData(
    {
      catalogueJson: readJson(file('catalogue.json')),
      townshipsJson: readJson(file('townships.json')),
      authoritiesJson: readJson(file('authorities.json')),
      extraYears,
    },
    {
      catalogue: file('catalogue.json'),
      townships: file('townships.json'),
      authorities: file('authorities.json'),
      extraYears: yearFiles.map((yearFile) => yearFile.path),
    },
  );
  cache.set(dataDir, reference);
  return reference;
}

/** Validates already-imported reference JSON and builds the lookups. Does no I/O. */
export function buildReferenceData(json: ReferenceDataJson, names: ReferenceSourceNames = {}): ReferenceData {
  const catalogueName = names.catalogue ?? 'catalogue.json';
  const authoritiesName = names.authorities ?? 'authorities.json';
  const catalogueFile = parseReference(catalogueFileSchema, json.catalogueJson, catalogueName);
  const townshipsFile = parseReference(townshipsFileSchema, json.townshipsJson, names.townships ?? 'townships.json');
  const authoritiesFile = parseReference(authoritiesFileSchema, json.authoritiesJson, authoritiesName);

  const authorityCodes = new Set(authoritiesFile.authorities.map((a) => a.code));
  catalogueFile.types.forEach((type, index) => {
    if (!authorityCodes.has(type.authority)) {
      throw new ReferenceDataError(
        `${catalogueName}: types[${index}].authority: "${type.authority}" is not an authority code in ${authoritiesName}`,
      );
    }
  });

  const years = new Map<number, CalendarYear>();
  for (const year of chineseDaysYears()) years.set(year.year, year);
  const overridden = new Set<number>();
  (json.extraYears ?? []).forEach((yearJson, index) => {
    const yearName = names.extraYears?.[index] ?? `holiday year file #${index + 1}`;
    const year = parseReference(calendarYearSchema, yearJson, yearName);
    if (overridden.has(year.year)) throw new ReferenceDataError(`${yearName}: year ${year.year} is given by another holiday file too`);
    overridden.add(year.year);
    // The official notice wins over the library, which may lag behind or hold an error.
    years.set(year.year, year);
  });

  // One instance serves every request in the process: freeze it so no caller can alter another's view.
  deepFreeze(catalogueFile);
  deepFreeze(townshipsFile);
  deepFreeze(authoritiesFile);
  return {
    catalogue: new Catalogue(catalogueFile.types, catalogueFile.version),
    townships: new Townships(townshipsFile.townships),
    authorities: authoritiesFile.authorities,
    calendar: new WorkingDayCalendar([...years.values()]),
    calendarYears: [...years.values()].sort((a, b) => a.year - b.year),
  };
}

/** The part of chinese-days' bundled data we read: date → "English,中文,n" label. */
const chineseDaysDataSchema = z.looseObject({
  holidays: z.record(z.string(), z.string()),
  workdays: z.record(z.string(), z.string()),
});

let chineseDaysCache: CalendarYear[] | undefined;

/**
 * Every year chinese-days has an official arrangement for, one CalendarYear each.
 *
 * Read from the package's bundled data rather than its date API: the API parses "YYYY-MM-DD" as
 * UTC but formats in the process's local zone, so west of UTC every answer is a day early (in
 * America/Los_Angeles it reports 2026-09-30 as a National Day holiday). The bundled maps are
 * keyed by plain date strings and mean the same in every zone. `holidays` lists the days off,
 * `workdays` the weekend days turned into working days.
 */
export function chineseDaysYears(): CalendarYear[] {
  if (chineseDaysCache !== undefined) return chineseDaysCache;
  const source = `chinese-days ${chineseDaysPackage.version}`;
  const data = parseReference(chineseDaysDataSchema, chineseDaysData, `${source} (dist/chinese-days.json)`);
  const byYear = new Map<number, CalendarYear>();
  const yearOf = (date: string): CalendarYear => {
    const year = Number(date.slice(0, 4));
    let entry = byYear.get(year);
    if (entry === undefined) {
      entry = { year, holidays: [], workdays: [], source };
      byYear.set(year, entry);
    }
    return entry;
  };
  for (const date of Object.keys(data.holidays)) yearOf(date).holidays.push(date);
  for (const date of Object.keys(data.workdays)) yearOf(date).workdays.push(date);
  // Hold the library to the same rules as our own year files: fail at start-up, not in a reminder.
  chineseDaysCache = [...byYear.values()]
    .sort((a, b) => a.year - b.year)
    .map((year) =>
      parseReference(calendarYearSchema, { ...year, holidays: year.holidays.sort(), workdays: year.workdays.sort() }, `${source}, year ${year.year}`),
    );
  return chineseDaysCache;
}

function listYearFiles(holidaysDir: string): { year: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(holidaysDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ReferenceDataError(`${holidaysDir}: cannot be read`, { cause: error });
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const match = YEAR_FILE.exec(name);
      if (match?.[1] === undefined) {
        throw new ReferenceDataError(`${path.join(holidaysDir, name)}: a holiday file must be named <year>.json, e.g. 2027.json`);
      }
      return { year: Number(match[1]), path: path.join(holidaysDir, name) };
    });
}

function readJson(file: string): unknown {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReferenceDataError(`${file}: cannot be read`, { cause: error });
  }
  try {
    return JSON.parse(content) as unknown;
  } catch (error) {
    throw new ReferenceDataError(`${file}: is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
