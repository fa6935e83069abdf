/**
 * Import benchmark: certificates per second through certalarm's import path (`uploadCertificates`
 * with the real `DynamoDbStore`) against plain BatchWriteItem of the very same items, on one
 * in-memory DynamoDB Local started here.
 *
 *   npx tsx bench/import.ts                 # 100,000 certificates
 *   npx tsx bench/import.ts --count 10000   # quick check
 *
 * Order: warm-up of both paths, then raw, import, raw (`--rounds 2`: raw, import, raw, import, raw),
 * each into a fresh table; the ratio is the mean import rate over the mean raw rate, so neither
 * JIT and DynamoDB Local warm-up nor a slow stretch of a shared machine favours one side.
 * The raw path writes exactly the items `toItem` makes for the validated certificates, 25 per
 * BatchWriteItem from 4 concurrent streams: the concurrency `DynamoDbStore.batchWrite` uses.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { certificateKey } from '../functions/adapters/aws/dynamodb/keys.js';
import { DynamoDbReplanMarks } from '../functions/adapters/aws/dynamodb/dynamodb-replan-marks.js';
import { DynamoDbStore, toItem } from '../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { loadReferenceData } from '../functions/app/reference-data.js';
import { settingsFromEnvironment } from '../functions/app/settings.js';
import { lookupsFrom, uploadCertificates, type UploadResult } from '../functions/app/upload-certificates.js';
import { validateCertificates } from '../functions/core/certificate.js';
import type { IsoDate } from '../functions/core/model.js';
import { addDays, todayIn } from '../functions/core/planning.js';
import type { CertificateStore, ReplanMarks } from '../functions/core/ports.js';
import { assertRecordsValid, certificateFactory, newStoredCertificate } from './lib/certificates.js';
import { batchWriteStreams, putBatchesOf, startBenchDynamo, type BenchDynamo, type Item } from './lib/dynamo.js';
import { readFlags } from './lib/flags.js';
import { cpuPerItem, cpuText, environmentLine, int, maxRssBytes, mb, mean, MemoryPeaks, printSummary, rate, timePhase, type PhaseCpu } from './lib/measure.js';

const flags = readFlags('Usage: npx tsx bench/import.ts [options]', {
  count: { description: 'certificates imported (and written raw) in each measured phase', default: 100_000 },
  page: { description: 'records per uploadCertificates call, as the HTTP API and CLI send them', default: 500 },
  warmup: { description: 'items written by each path before measuring', default: 2_000, min: 0 },
  breakdown: { description: 'certificates in the extra, instrumented import that shows where the time goes (0 skips it)', default: 20_000, min: 0 },
  check: { description: 'items read back from both tables to confirm they are identical', default: 1_000, min: 0 },
  rounds: { description: 'import runs, each followed by a raw run (1: raw, import, raw)', default: 1 },
  marks: { description: "1: uploads read their types' rule and re-plan mark before planning and after writing, as the service does; 0: without", default: 1, min: 0 },
});

/** The same concurrency as DynamoDbStore.batchWrite: four BatchWriteItem calls in flight. */
const STREAMS = 4;
/** The upload's business clock. Fixed, so plans (and therefore items) are the same in every run. */
const NOW = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
const GOAL_RATIO = 0.8;

const reference = loadReferenceData();
const settings = settingsFromEnvironment({});
const factory = certificateFactory(reference);
const today = todayIn(NOW);
/** Expiries from a month ago (late uploads, catch-ups) to three years ahead. */
const EXPIRY_SPAN = 3 * 365 + 30;
const expiry = (i: number): IsoDate => addDays(today, -30 + ((i * 7919) % EXPIRY_SPAN));
// Only types that take an expiry: a record of a type without one (tractor registrations …) that gives a date is rejected.
const expiring = factory.types.flatMap((type, index) => (type.reminders ? [index] : []));
const typeOf = (i: number): number => expiring[i % expiring.length] ?? 0;

/** Certificates [from, from + count) as the plain records a client uploads, in pages. */
function recordPages(from: number, count: number): unknown[][] {
  const pages: unknown[][] = [];
  for (let i = 0; i < count; i += flags.page) {
    const size = Math.min(flags.page, count - i);
    pages.push(Array.from({ length: size }, (_, k) => factory.record(from + i + k, expiry(from + i + k), typeOf(from + i + k))));
  }
  return pages;
}

/** Exactly what the import stores for certificates [from, from + count): validated, planned, `toItem`. */
function itemsFor(from: number, count: number): Item[] {
  const items: Item[] = [];
  const lookups = lookupsFrom(reference);
  for (let i = 0; i < count; i += flags.page) {
    // One page of records at a time, so only the items themselves stay in memory.
    const page = Array.from({ length: Math.min(flags.page, count - i) }, (_, k) => factory.record(from + i + k, expiry(from + i + k), typeOf(from + i + k)));
    const { valid, rejected } = validateCertificates(page, lookups);
    if (rejected.length > 0) throw new Error(`generated records rejected: ${JSON.stringify(rejected.slice(0, 2))}`);
    for (const { certificate } of valid) items.push(toItem(newStoredCertificate({ reference, settings }, certificate, NOW)));
  }
  return items;
}

async function runImport(store: CertificateStore, pages: unknown[][], replanMarks?: ReplanMarks): Promise<UploadResult> {
  const total: UploadResult = { accepted: 0, created: 0, updated: 0, renewed: 0, unchanged: 0, rejected: [] };
  for (const page of pages) {
    const result = await uploadCertificates({ store, reference, settings, ...(replanMarks !== undefined && flags.marks > 0 ? { replanMarks } : {}) }, page, NOW);
    total.accepted += result.accepted;
    total.created += result.created;
    total.updated += result.updated;
    total.renewed += result.renewed;
    total.unchanged += result.unchanged;
    total.rejected.push(...result.rejected);
  }
  return total;
}

interface Phase {
  count: number;
  seconds: number;
  table: string;
  cpu: PhaseCpu;
}

async function rawPhase(dynamo: BenchDynamo, name: string, from: number, count: number): Promise<Phase> {
  const items = itemsFor(from, count);
  const table = await dynamo.freshTable(`bench-raw-${name}`);
  const { result: written, seconds, cpu } = await timePhase(() => batchWriteStreams(dynamo.doc, table, STREAMS, putBatchesOf(items)));
  if (written !== count) throw new Error(`raw ${name}: wrote ${written} of ${count}`);
  const line = `raw BatchWrite ${name.padEnd(8)} ${int(count)} items in ${seconds.toFixed(2)} s: ${rate(count, seconds)} (${cpuText(cpu, seconds)})`;
  process.stdout.write(`${line}\n`);
  return { count, seconds, table, cpu };
}

async function importPhase(dynamo: BenchDynamo, name: string, from: number, count: number): Promise<Phase> {
  const pages = recordPages(from, count);
  const table = await dynamo.freshTable(`bench-import-${name}`);
  // The store exactly as the service builds it: nothing wrapped, nothing tuned.
  const store = new DynamoDbStore(dynamo.client, table);
  const { result, seconds, cpu } = await timePhase(() => runImport(store, pages, new DynamoDbReplanMarks(dynamo.client, table)));
  if (result.rejected.length > 0 || result.created !== count) {
    throw new Error(`import ${name}: created ${result.created} of ${count}, rejected ${result.rejected.length}`);
  }
  const line = `import         ${name.padEnd(8)} ${int(count)} certs in ${seconds.toFixed(2)} s: ${rate(count, seconds)} (${cpuText(cpu, seconds)})`;
  process.stdout.write(`${line}\n`);
  return { count, seconds, table, cpu };
}

/** Wall time spent inside each store call, to split the import's time between its steps. */
class TimedStore implements CertificateStore {
  readSeconds = 0;
  writeSeconds = 0;
  constructor(private readonly inner: DynamoDbStore) {}
  getCertificate = (key: Parameters<CertificateStore['getCertificate']>[0]) => this.inner.getCertificate(key);
  listCertificates = (query: Parameters<CertificateStore['listCertificates']>[0]) => this.inner.listCertificates(query);
  dueCertificates = (until: DateTime) => this.inner.dueCertificates(until);
  updatePlan = (...args: Parameters<CertificateStore['updatePlan']>) => this.inner.updatePlan(...args);
  updatePlans = (...args: Parameters<CertificateStore['updatePlans']>) => this.inner.updatePlans(...args);
  async getCertificates(keys: Parameters<CertificateStore['getCertificates']>[0]) {
    const start = performance.now();
    try {
      return await this.inner.getCertificates(keys);
    } finally {
      this.readSeconds += (performance.now() - start) / 1000;
    }
  }
  async putCertificates(items: Parameters<CertificateStore['putCertificates']>[0]) {
    const start = performance.now();
    try {
      return await this.inner.putCertificates(items);
    } finally {
      this.writeSeconds += (performance.now() - start) / 1000;
    }
  }
}

async function breakdownPhase(dynamo: BenchDynamo, from: number, count: number): Promise<Array<[string, string]>> {
  const pages = recordPages(from, count);
  // The in-process steps alone, on the same records (already compiled by the earlier phases).
  const lookups = lookupsFrom(reference);
  let t = performance.now();
  const certificates = pages.map((page) => validateCertificates(page, lookups).valid.map((v) => v.certificate));
  const validateSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const stored = certificates.map((page) => page.map((c) => newStoredCertificate({ reference, settings }, c, NOW)));
  const planSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  for (const page of stored) for (const s of page) toItem(s);
  const toItemSeconds = (performance.now() - t) / 1000;

  const table = await dynamo.freshTable('bench-import-breakdown');
  const store = new TimedStore(new DynamoDbStore(dynamo.client, table));
  const { seconds } = await timePhase(() => runImport(store, pages, new DynamoDbReplanMarks(dynamo.client, table)));
  const other = seconds - store.readSeconds - store.writeSeconds;
  const perCert = (s: number) => `${((s * 1e6) / count).toFixed(0)} µs/cert`;
  const share = (s: number) => `${s.toFixed(2)} s (${((s / seconds) * 100).toFixed(0)}%, ${perCert(s)})`;
  const rows: Array<[string, string]> = [
    ['  total', `${seconds.toFixed(2)} s for ${int(count)} certs (${rate(count, seconds)})`],
    ['  getCertificates (BatchGet)', share(store.readSeconds)],
    ['  putCertificates (toItem+BatchWrite)', share(store.writeSeconds)],
    ['  rest (validate, plan, hash)', share(other)],
    ['  measured apart: validation', perCert(validateSeconds)],
    ['  measured apart: plan + hash', perCert(planSeconds)],
    ['  measured apart: toItem', perCert(toItemSeconds)],
  ];
  process.stdout.write(`where the import's time goes (instrumented run, ${int(count)} certificates):\n`);
  for (const [label, value] of rows) process.stdout.write(`${label.padEnd(38)} ${value}\n`);
  return rows;
}

/**
 * DynamoDB Local serves requests about one core's worth at a time, so the work it does per item
 * bounds each path's rate; the ratio of that work is the best ratio the import could reach here.
 */
function dynamoCeiling(raws: Phase[], imports: Phase[]): Array<[string, string]> {
  const perItem = (p: Phase) => (p.cpu.dynamoCpuS === undefined ? undefined : p.cpu.dynamoCpuS / p.count);
  const raw = raws.map(perItem);
  const imported = imports.map(perItem);
  if ([...raw, ...imported].some((r) => r === undefined)) return [];
  const rawMean = mean(raw as number[]);
  const imp = mean(imported as number[]);
  return [['DynamoDB Local work ratio', `${(rawMean / imp).toFixed(3)} (raw ${(rawMean * 1e6).toFixed(0)} µs / import ${(imp * 1e6).toFixed(0)} µs of its CPU per item)`]];
}

/** Reads `sample` items back from both tables and insists they are identical. */
async function assertSameItems(dynamo: BenchDynamo, importTable: string, rawTable: string, from: number, count: number, sample: number): Promise<number> {
  let compared = 0;
  for (let k = 0; k < Math.min(sample, count); k += 1) {
    const i = from + Math.floor((k * count) / Math.min(sample, count));
    const key = certificateKey(factory.certificate(i, expiry(i), typeOf(i)));
    const [a, b] = await Promise.all(
      [importTable, rawTable].map(async (TableName) => (await dynamo.doc.send(new GetCommand({ TableName, Key: key, ConsistentRead: true }))).Item),
    );
    if (a === undefined || JSON.stringify(sorted(a)) !== JSON.stringify(sorted(b))) {
      throw new Error(`item ${key.pk} differs between the import and the raw table`);
    }
    compared += 1;
  }
  return compared;
}

function sorted(item: Item | undefined): Array<[string, unknown]> {
  return Object.entries(item ?? {}).sort(([x], [y]) => (x < y ? -1 : 1));
}

async function main(): Promise<void> {
  const started = performance.now();
  process.stdout.write(`import benchmark — ${environmentLine()}\n`);
  process.stdout.write(
    `${int(flags.count)} certificates, pages of ${flags.page}, ${STREAMS} BatchWrite streams, ${flags.rounds} round(s), now ${NOW.toISO() ?? ''}\n`,
  );
  assertRecordsValid(factory, reference, Math.min(flags.count, 5_000), expiry, typeOf);

  const memory = new MemoryPeaks();
  const dynamo = await startBenchDynamo();
  process.stdout.write(`DynamoDB Local (in memory) at ${dynamo.local.endpoint}\n`);
  try {
    // Warm-up certificates have numbers of their own; the measured phases all write the same items.
    if (flags.warmup > 0) {
      await rawPhase(dynamo, 'warm-up', flags.count, flags.warmup);
      await importPhase(dynamo, 'warm-up', flags.count + flags.warmup, flags.warmup);
    }
    // raw, then (import, raw) per round: every import sits between two raw runs of the same items.
    const raws: Phase[] = [await rawPhase(dynamo, 'round 1', 0, flags.count)];
    const imports: Phase[] = [];
    for (let round = 1; round <= flags.rounds; round += 1) {
      imports.push(await importPhase(dynamo, `round ${round}`, 0, flags.count));
      raws.push(await rawPhase(dynamo, `round ${round + 1}`, 0, flags.count));
    }
    const rawRate = mean(raws.map((p) => p.count / p.seconds));
    const importRate = mean(imports.map((p) => p.count / p.seconds));
    const ratio = importRate / rawRate;
    memory.sample();
    const peakMeasured = memory.peakRss;

    const compared = await assertSameItems(dynamo, imports.at(-1)!.table, raws.at(-1)!.table, 0, flags.count, flags.check);
    process.stdout.write(`checked ${int(compared)} items: identical in the import table and the raw table\n`);

    const breakdownFrom = flags.count + 2 * flags.warmup;
    const breakdown = flags.breakdown > 0 ? await breakdownPhase(dynamo, breakdownFrom, flags.breakdown) : [];
    memory.stop();

    const elapsed = (ps: Phase[]) => ps.map((p) => `${p.seconds.toFixed(2)} s`).join(', ');
    printSummary(
      `import, ${int(flags.count)} certificates`,
      [
        ['import (uploadCertificates)', `${int(importRate)} certs/s = ${int(importRate)} items/s (1 item per certificate); elapsed ${elapsed(imports)}`],
        ['raw BatchWrite, same items', `${int(rawRate)} items/s mean of ${raws.length} runs (${raws.map((p) => rate(p.count, p.seconds)).join(', ')}); elapsed ${elapsed(raws)}`],
        ['ratio import/raw', ratio.toFixed(3)],
        ['CPU per item, raw', raws.map((p) => cpuPerItem(p.cpu, p.count)).join(' | ')],
        ['CPU per item, import', imports.map((p) => cpuPerItem(p.cpu, p.count)).join(' | ')],
        ...dynamoCeiling(raws, imports),
        ['machine, raw', raws.map((p) => cpuText(p.cpu, p.seconds)).join(' | ')],
        ['machine, import', imports.map((p) => cpuText(p.cpu, p.seconds)).join(' | ')],
        ['peak RSS (sampled)', `${mb(peakMeasured)} by the end of the measured phases (holds the generated records and items)`],
        ['maxRSS (getrusage)', mb(maxRssBytes())],
        ['benchmark elapsed', `${((performance.now() - started) / 1000).toFixed(0)} s in all`],
        ...(breakdown.length > 0 ? [['where the time goes', `instrumented run of ${int(flags.breakdown)}`] as [string, string], ...breakdown] : []),
      ],
      `ratio import/raw ≥ ${GOAL_RATIO}`,
      ratio >= GOAL_RATIO,
    );
  } finally {
    await dynamo.stop();
  }
}

await main();
