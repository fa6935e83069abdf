import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/e2e-cli.js';
import { makeTempDir, startTestService, type TestService } from '../support/e2e-service.js';

/** TEST FIXTURE: an invented 2027 arrangement (the State Council has not published 2027's yet). */
const FIXTURE_FILE = new URL('../fixtures/holidays/2027-invented.json', import.meta.url);
const FIXTURE_2027 = JSON.parse(readFileSync(FIXTURE_FILE, 'utf8')) as { year: number; holidays: string[]; workdays: string[]; source: string };

let local: TestService;
let workDir: string;

beforeAll(async () => {
  local = await startTestService({ inMemory: true, startAt: '2026-12-01T10:00:00+08:00' });
  workDir = await makeTempDir('certalarm-e2e-calendar-cli-');
});

afterAll(async () => {
  await local?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('CLI: certalarm calendar and audit --help', () => {
  it.concurrent.for([
    { command: ['calendar', '--help'], options: ['list', 'get', 'load'] },
    { command: ['calendar', 'list', '--help'], options: ['--url', '--json'] },
    { command: ['calendar', 'get', '--help'], options: ['<year>', '--url', '--json'] },
    { command: ['calendar', 'load', '--help'], options: ['<year>', '<file>', '--source', '--json'] },
    { command: ['audit', '--help'], options: ['--since', '--actor', '--action', '--json'] },
  ])('prints the usage of $command with its options and exits 0', async ({ command, options }, { expect }) => {
    // Act
    const result = await runCli(command);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: certalarm ${command.slice(0, -1).join(' ')}`);
    for (const option of options) expect(result.stdout).toContain(option);
  });
});

describe('CLI: certalarm calendar', () => {
  it('lists the years and warns that 2027 is missing, then loads a notice file and shows the year', async () => {
    // Prepare: the file as an operator types it from the notice, without its source
    const file = join(workDir, '2027.json');
    writeFileSync(file, JSON.stringify({ holidays: FIXTURE_2027.holidays, workdays: FIXTURE_2027.workdays }, null, 2));

    // Act
    const before = await runCli(['calendar', 'list', '--url', local.url]);
    const load = await runCli(['calendar', 'load', '2027', file, '--source', 'TEST FIXTURE 国办发明电〔2026〕N号 (invented)', '--url', local.url]);
    const list = await runCli(['calendar', 'list', '--url', local.url, '--json']);
    const get = await runCli(['calendar', 'get', '2027', '--url', local.url, '--json']);
    const getText = await runCli(['calendar', 'get', '2027', '--url', local.url]);

    // Assess
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('covered through: 2026-12-31');
    expect(before.stdout).toMatch(/WARNING .*2027/);
    expect(load.code).toBe(0);
    expect(load.stdout).toContain('2027 loaded as version 1');
    expect(load.stdout).toContain('re-plan done');
    const listed = JSON.parse(list.stdout) as { years: Array<{ year: number; origin: string }>; warnings: unknown[]; coveredThrough: string };
    expect(listed.years.find((y) => y.year === 2027)?.origin).toBe('operator');
    expect(listed.warnings).toEqual([]);
    expect(listed.coveredThrough).toBe('2027-12-31');
    const year = JSON.parse(get.stdout) as { holidays: string[]; workdays: string[]; source: string };
    expect(year.holidays).toEqual([...FIXTURE_2027.holidays].sort());
    expect(year.workdays).toEqual(FIXTURE_2027.workdays);
    expect(year.source).toBe('TEST FIXTURE 国办发明电〔2026〕N号 (invented)');
    expect(getText.stdout).toContain('make-up workdays (调休上班): 2027-01-09 2027-02-20 2027-10-09');
  });

  it('refuses a file with a broken rule and prints the reason, exiting non-zero', async () => {
    // Prepare
    const file = join(workDir, 'bad.json');
    writeFileSync(file, JSON.stringify({ holidays: ['2027-01-01'], workdays: ['2027-01-05'] }));

    // Act
    const result = await runCli(['calendar', 'load', '2027', file, '--source', 'x', '--url', local.url]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed with 400');
    expect(result.stderr).toContain('2027-01-05 is a weekday');
  });

  it('refuses to load without a source', async () => {
    // Prepare
    const file = join(workDir, 'nosource.json');
    writeFileSync(file, JSON.stringify({ holidays: ['2027-01-01'], workdays: [] }));

    // Act
    const result = await runCli(['calendar', 'load', '2027', file, '--url', local.url]);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--source');
  });
});

describe('CLI: certalarm audit', () => {
  it('lists the trail newest first, filtered by action and actor, as text and as JSON', async () => {
    // Act
    const all = await runCli(['audit', '--url', local.url, '--json']);
    const loads = await runCli(['audit', '--action', 'calendar', '--actor', 'token:admin', '--since', '2026-12-01', '--url', local.url]);
    const none = await runCli(['audit', '--actor', 'token:nobody', '--url', local.url]);

    // Assess
    expect(all.code).toBe(0);
    const entries = JSON.parse(all.stdout) as Array<{ action: string; actor: string }>;
    expect(entries.map((e) => e.action)).toContain('calendar.load');
    expect(loads.code).toBe(0);
    expect(loads.stdout).toContain('token:admin (operator)  calendar.load  calendar/2027');
    expect(none.stdout).toContain('no audit entries match');
  });
});
