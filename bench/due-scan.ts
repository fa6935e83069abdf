/**
 * Due-scan benchmark: the same day's due set (3,000 reminders by default) sent by `sendDueReminders`
 * with 1,000,000 and with 10,000 certificates stored, each in its own table on one in-memory
 * DynamoDB Local started here. The scan should cost what is due, not what is stored.
 *
 *   npx tsx bench/due-scan.ts                                 # 1,000,000 vs 10,000 (the load takes a while)
 *   npx tsx bench/due-scan.ts --large 100000 --trials 1       # quick check
 *
 * Background certificates are loaded with plain BatchWriteItem of `toItem(...)` items; their
 * reminders fall years ahead, so they sit in the due index but are never due. The due set is
 * certificates whose first reminder falls today, planned at an upload a month earlier. Between
 * trials the due set is put back (items rewritten, delivery records deleted), so every trial sends
 * the same reminders. Trials alternate large and small, after one unmeasured scan of each.
 */
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { deliveryKey } from '../functions/adapters/aws/dynamodb/keys.js';
import { DynamoDbStore, toItem } from '../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { silentLogger } from '../functions/app/logger.js';
import { loadReferenceData } from '../functions/app/reference-data.js';
import { sendDueReminders, type ScanResult } from '../functions/app/send-due-reminders.js';
import { settingsFromEnvironment } from '../functions/app/settings.js';
import type { IsoDate } from '../functions/core/model.js';
import { addDays, planReminders, todayIn } from '../functions/core/planning.js';
import type { SmsMessage, SmsReceipt, SmsSender } from '../functions/core/ports.js';
import { assertRecordsValid, certificateFactory, newStoredCertificate } from './lib/certificates.js';
import { BATCH_WRITE_SIZE, batchWriteStreams, putBatchesOf, startBenchDynamo, type BenchDynamo, type Item, type WriteRequest } from './lib/dynamo.js';
import { readFlags } from './lib/flags.js';
import { cpuPerItem, cpuText, environmentLine, int, maxRssBytes, mb, mean, MemoryPeaks, printSummary, progressPrinter, rate, timePhase, type PhaseCpu } from './lib/measure.js';

const flags = readFlags('Usage: npx tsx bench/due-scan.ts [options]', {
  large: { description: 'certificates stored in the large table (the due set included)', default: 1_000_000 },
  small: { description: 'certificates stored in the small table (the due set included)', default: 10_000 },
  due: { description: 'certificates due today, the same set in both tables', default: 3_000 },
  trials: { description: 'measured scans of each table, alternating large and small', default: 3 },
  streams: { description: 'concurrent BatchWriteItem streams for the load (8 loaded fastest of 4, 6 and 8)', default: 8 },
  concurrency: { description: 'scan concurrency passed to sendDueReminders (its default is 4)', default: 4 },
});

/** The scan's business clock: a Tuesday inside the 09:00–20:00 send window. */
const NOW = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
/** When every certificate was uploaded, so today's reminders were planned as ordinary pending stages. */
const UPLOADED = DateTime.fromISO('2026-11-02T10:00:00+08:00', { setZone: true });
const GOAL_RATIO = 1.3;

const reference = loadReferenceData();
const settings = settingsFromEnvironment({});
const factory = certificateFactory(reference);
const today = todayIn(NOW);
const nowUtc = NOW.toUTC().toISO() ?? '';
const types = factory.types;

/**
 * For each type (by index), the expiry dates whose earliest reminder is today's send-window start:
 * found by planning every expiry over the next two years, as the upload would.
 */
const dueExpiries: IsoDate[][] = types.map((type) => {
  const found: IsoDate[] = [];
  // A type without an expiry is never due (and refuses a date).
  if (!type.reminders) return found;
  for (let d = 0; d < 730; d += 1) {
    const expiresOn = addDays(today, d);
    const plan = planReminders({
      expiresOn,
      renewalWindow: type.renewalWindow,
      calendar: reference.calendar,
      policy: settings.stagePolicy,
      sendWindow: settings.sendWindow,
      now: UPLOADED,
    });
    const pending = plan.stages.filter((s) => s.status === 'pending').sort((a, b) => Date.parse(a.sendAt) - Date.parse(b.sendAt));
    if (pending[0]?.date === today && Date.parse(pending[0].sendAt) <= NOW.toMillis()) found.push(expiresOn);
  }
  return found;
});

/**
 * The types that can have a first reminder today. Calendar-month windows skip some days (31 May
 * minus six months is the end of November, and 1 June minus six months is 1 December), so a type
 * can have no expiry whose first reminder is today; the due set is spread over the others.
 */
const dueTypes = dueExpiries.flatMap((candidates, index) => (candidates.length > 0 ? [index] : []));

/** The types that take an expiry: a certificate of a type without one (tractor registrations …) has no plan and is refused a date. */
const expiringTypes = types.flatMap((type, index) => (type.reminders ? [index] : []));

/** Certificate i's type: the due set cycles through `dueTypes`, the background through every type that takes an expiry. */
function typeOf(i: number): number {
  return i < flags.due ? dueTypes[i % dueTypes.length]! : expiringTypes[i % expiringTypes.length]!;
}

/** Certificate i: the first `due` are due today; the rest expire 3–8 years ahead, with nothing due for years. */
function expiry(i: number): IsoDate {
  if (i < flags.due) {
    const candidates = dueExpiries[typeOf(i)]!;
    return candidates[Math.floor(i / dueTypes.length) % candidates.length]!;
  }
  return addDays(today, 3 * 365 + ((i * 7919) % (5 * 365)));
}

function itemOf(i: number): Item {
  return toItem(newStoredCertificate({ reference, settings }, factory.certificate(i, expiry(i), typeOf(i)), UPLOADED));
}

function isDue(item: Item): boolean {
  return typeof item.nextAlarmAt === 'string' && item.nextAlarmAt <= nowUtc;
}

/** Loads certificates [0, total) into `table`, generating items batch by batch (no million-item array). */
async function load(dynamo: BenchDynamo, table: string, total: number): Promise<{ seconds: number; due: number }> {
  let next = 0;
  let due = 0;
  const nextBatch = (): WriteRequest[] | undefined => {
    if (next >= total) return undefined;
    const batch: WriteRequest[] = [];
    for (const end = Math.min(next + BATCH_WRITE_SIZE, total); next < end; next += 1) {
      const item = itemOf(next);
      if (isDue(item) !== next < flags.due) throw new Error(`certificate ${next} is ${isDue(item) ? '' : 'not '}due, expected the opposite`);
      if (isDue(item)) due += 1;
      batch.push({ PutRequest: { Item: item } });
    }
    return batch;
  };
  const progress = progressPrinter(`load ${int(total)}`, total, 15_000);
  const { seconds, cpu } = await timePhase(() => batchWriteStreams(dynamo.doc, table, flags.streams, nextBatch, progress));
  process.stdout.write(`loaded ${int(total)} certificates into ${table} in ${seconds.toFixed(1)} s: ${rate(total, seconds)} (${cpuText(cpu, seconds)})\n`);
  return { seconds, due };
}

/** Puts the due set back as it was before any scan: pending plans, no delivery records. */
async function restoreDueSet(dynamo: BenchDynamo, table: string): Promise<void> {
  const items = Array.from({ length: flags.due }, (_, i) => itemOf(i));
  const deletes = items.map((item): WriteRequest => ({
    DeleteRequest: { Key: deliveryKey({ type: item.type as string, number: item.number as string }, item.expiresOn as string, item.nextStage as string) },
  }));
  let next = 0;
  await batchWriteStreams(dynamo.doc, table, flags.streams, () => {
    if (next >= deletes.length) return undefined;
    next += BATCH_WRITE_SIZE;
    return deletes.slice(next - BATCH_WRITE_SIZE, next);
  });
  await batchWriteStreams(dynamo.doc, table, flags.streams, putBatchesOf(items));
}

/** Accepts every message at once: the scan's own cost, without the SMS pacing. */
class CountingSmsSender implements SmsSender {
  sent = 0;
  send(_message: SmsMessage): Promise<SmsReceipt> {
    this.sent += 1;
    return Promise.resolve({ messageId: `bench-${this.sent}` });
  }
}

interface Size {
  label: string;
  stored: number;
  table: string;
  store: DynamoDbStore;
  scans: number[];
  queries: number[];
  cpus: PhaseCpu[];
}

async function countDueKeys(store: DynamoDbStore): Promise<number> {
  let keys = 0;
  for await (const _key of store.dueCertificates(NOW)) keys += 1;
  return keys;
}

/** Restores the due set, times the due-index query alone, then times the whole scan. */
async function scanOnce(dynamo: BenchDynamo, size: Size, measured: boolean): Promise<void> {
  await restoreDueSet(dynamo, size.table);
  const queryStart = performance.now();
  const keys = await countDueKeys(size.store);
  const querySeconds = (performance.now() - queryStart) / 1000;
  if (keys !== flags.due) throw new Error(`${size.label}: the due index lists ${keys} certificates, expected ${flags.due}`);

  const sms = new CountingSmsSender();
  // `phones`: as the service scans, grouping each holder's due certificates (and merging them where one phone has several).
  const deps = { store: size.store, ledger: size.store, phones: size.store, sms, reference, settings, logger: silentLogger };
  const { result, seconds, cpu } = await timePhase<ScanResult>(() => sendDueReminders(deps, NOW, { concurrency: flags.concurrency }));
  if (result.sent !== flags.due || sms.sent !== flags.due - result.merged + result.mergedMessages) {
    throw new Error(`${size.label}: sent ${result.sent} (sender saw ${sms.sent}), expected the due count ${flags.due}: ${JSON.stringify(result)}`);
  }
  if (measured) {
    size.scans.push(seconds);
    size.queries.push(querySeconds);
    size.cpus.push(cpu);
  }
  process.stdout.write(
    `${measured ? 'scan' : 'warm-up scan'} ${size.label.padEnd(10)} sent ${int(result.sent)} in ${seconds.toFixed(2)} s: ${rate(result.sent, seconds)} ` +
      `(due-index query alone ${(querySeconds * 1000).toFixed(0)} ms; ${cpuText(cpu, seconds)})\n`,
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  process.stdout.write(`due-scan benchmark — ${environmentLine()}\n`);
  process.stdout.write(`due set spread over ${dueTypes.length} of ${types.length} types (those with an expiry first reminded today)\n`);
  process.stdout.write(
    `${int(flags.due)} due today (${today}) among ${int(flags.large)} and ${int(flags.small)} stored; scan as of ${NOW.toISO() ?? ''}, ` +
      `concurrency ${flags.concurrency}, load streams ${flags.streams}\n`,
  );
  if (flags.due > flags.small || flags.small > flags.large) throw new Error('need due ≤ small ≤ large');
  assertRecordsValid(factory, reference, Math.min(flags.large, 5_000), expiry, typeOf);

  const memory = new MemoryPeaks();
  const dynamo = await startBenchDynamo();
  process.stdout.write(`DynamoDB Local (in memory) at ${dynamo.local.endpoint}\n`);
  try {
    const sizes: Size[] = [];
    let loadLarge = { seconds: 0, due: 0 };
    for (const [label, stored] of [['large', flags.large], ['small', flags.small]] as const) {
      const table = await dynamo.freshTable(`bench-due-${stored}`);
      const loaded = await load(dynamo, table, stored);
      if (loaded.due !== flags.due) throw new Error(`${label}: ${loaded.due} certificates due, expected ${flags.due}`);
      if (label === 'large') loadLarge = loaded;
      sizes.push({ label: `${int(stored)}`, stored, table, store: new DynamoDbStore(dynamo.client, table), scans: [], queries: [], cpus: [] });
    }
    const [large, small] = sizes as [Size, Size];

    for (const size of sizes) await scanOnce(dynamo, size, false);
    for (let trial = 0; trial < flags.trials; trial += 1) {
      for (const size of sizes) await scanOnce(dynamo, size, true);
    }
    memory.stop();

    const ratio = mean(large.scans) / mean(small.scans);
    const scanRow = (size: Size): [string, string] => [
      `scan, ${size.label} stored`,
      `${mean(size.scans).toFixed(2)} s mean = ${rate(flags.due, mean(size.scans))} reminders/s ` +
        `(trials ${size.scans.map((s) => s.toFixed(2)).join(', ')} s)`,
    ];
    // CPU per reminder does not depend on how busy the rest of the machine was, unlike wall time.
    const cpuRow = (size: Size): [string, string] => {
      const sum = (pick: (c: PhaseCpu) => number | undefined) => size.cpus.reduce<number | undefined>((total, c) => {
        const v = pick(c);
        return total === undefined || v === undefined ? undefined : total + v;
      }, 0);
      const reminders = flags.due * size.cpus.length;
      const node = sum((c) => c.nodeCpuS) ?? 0;
      const dynamo = sum((c) => c.dynamoCpuS);
      return [`  CPU per reminder, ${size.label}`, cpuPerItem({ nodeCpuS: node, dynamoCpuS: dynamo, machineBusyCores: undefined }, reminders)];
    };
    const queryRow = (size: Size): [string, string] => [
      `  due-index query, ${size.label}`,
      `${(mean(size.queries) * 1000).toFixed(0)} ms mean for ${int(flags.due)} keys`,
    ];
    printSummary(
      `due scan, ${int(flags.due)} due, ${int(large.stored)} vs ${int(small.stored)} stored`,
      [
        ['due reminders', `${int(flags.due)} (sent = due in every scan: yes)`],
        scanRow(large),
        scanRow(small),
        ['time ratio large/small', ratio.toFixed(3)],
        cpuRow(large),
        cpuRow(small),
        queryRow(large),
        queryRow(small),
        ['load of large table', `${int(large.stored)} items in ${loadLarge.seconds.toFixed(0)} s (${rate(large.stored, loadLarge.seconds)}, ${flags.streams} streams)`],
        ['peak RSS (bench process)', `${mb(memory.peakRss)} sampled, maxRSS ${mb(maxRssBytes())}`],
        ['benchmark elapsed', `${((performance.now() - started) / 1000).toFixed(0)} s in all`],
      ],
      `time ratio (${int(large.stored)} / ${int(small.stored)}) ≤ ${GOAL_RATIO}`,
      ratio <= GOAL_RATIO,
    );
  } finally {
    await dynamo.stop();
  }
}

await main();
