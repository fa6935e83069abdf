/**
 * Campaign benchmark: finding one visit's recipients must cost the township's certificates of the
 * campaign's types, not the table. One disk-backed DynamoDB Local table is loaded with `--small`
 * certificates (200,000), `--township` (20,000) of them farm-machine certificates in one township;
 * the visit's recipients are found and timed; the table is then grown to `--large` (2,000,000) with
 * more certificates elsewhere, and the same lookup is timed again.
 *
 *   npm run bench:campaign                                   # 200,000 then 2,000,000 stored
 *   npm run bench:campaign -- --large 400000 --trials 1      # quick check
 *
 * The lookup is what a notice job does first: a Query of `byTownshipType` per covered type (township
 * AND type in the key), then `recipientsOf` (one recipient per phone). Background certificates cover
 * the whole catalogue and every township, except farm-machine certificates in the visit's township,
 * so both lookups find exactly the same recipients.
 *
 * Then the visit's booking notice is sent by `runCampaignJob` (invitation, booking code, claim, record
 * per phone) through a sender that accepts every message at once, and its rate is printed next to the
 * raw BatchWriteItem rate of the load: the job's own cost per phone, in DynamoDB Local writes.
 *
 * The table is kept in SQLite files (DynamoDB Local's -dbPath, a temporary directory removed afterwards)
 * rather than in the JVM's heap, so 2,000,000 items do not need a heap of many gigabytes. The directory
 * is under /dev/shm where it exists (tmpfs: SQLite's syncs cost nothing there; on a real disk each batch
 * waits for one and the load crawls), or `CERTALARM_BENCH_DB_DIR`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { DynamoDbCampaignStore } from '../functions/adapters/aws/dynamodb/dynamodb-campaign-store.js';
import { toItem } from '../functions/adapters/aws/dynamodb/dynamodb-store.js';
import type { CampaignDeps } from '../functions/app/campaigns/campaign-deps.js';
import { addVisit, createCampaign } from '../functions/app/campaigns/manage-campaigns.js';
import { runCampaignJob } from '../functions/app/campaigns/run-campaign-job.js';
import { silentLogger } from '../functions/app/logger.js';
import { loadReferenceData } from '../functions/app/reference-data.js';
import { settingsFromEnvironment } from '../functions/app/settings.js';
import type { RecipientCertificate } from '../functions/core/campaigns/model.js';
import { recipientsOf } from '../functions/core/campaigns/recipients.js';
import type { IsoDate } from '../functions/core/model.js';
import type { Clock, ScheduleGateway, SmsMessage, SmsReceipt, SmsSender } from '../functions/core/ports.js';
import { addDays } from '../functions/core/planning.js';
import { certificateFactory, newStoredCertificate } from './lib/certificates.js';
import { BATCH_WRITE_SIZE, batchWriteStreams, startBenchDynamo, type BenchDynamo, type WriteRequest } from './lib/dynamo.js';
import { readFlags } from './lib/flags.js';
import { cpuText, environmentLine, int, maxRssBytes, mb, mean, MemoryPeaks, printSummary, progressPrinter, rate, timePhase } from './lib/measure.js';

const flags = readFlags('Usage: npm run bench:campaign -- [options]', {
  small: { description: 'certificates stored for the first lookup (the township set included)', default: 200_000 },
  large: { description: 'certificates stored for the second lookup (0 skips it)', default: 2_000_000, min: 0 },
  township: { description: "farm-machine certificates in the visit's township", default: 20_000 },
  trials: { description: 'measured lookups at each size, after one unmeasured', default: 3 },
  streams: { description: 'concurrent BatchWriteItem streams for the load', default: 8 },
});

/** The upload instant of every certificate, and the campaign: spring 2027, season ending 28 February. */
const UPLOADED = DateTime.fromISO('2026-11-02T10:00:00+08:00', { setZone: true });
const SEASON_END: IsoDate = '2027-02-28';
const COVERED_TYPES = ['farm_machine_annual_inspection', 'farm_machine_operator_license'] as const;
const TOWNSHIP = '360732104'; // 高兴镇
const GOAL_RATIO = 1.3;

const reference = loadReferenceData();
const settings = settingsFromEnvironment({});
const factory = certificateFactory(reference);
const typeIndex = new Map(factory.types.map((t, i) => [t.code, i]));
const coveredIndexes = COVERED_TYPES.map((code) => {
  const index = typeIndex.get(code);
  if (index === undefined) throw new Error(`catalogue has no type ${code}`);
  return index;
});
const otherTownship = factory.townships.find((t) => t.code !== TOWNSHIP)!.code;

/**
 * Certificate i. The first `township` are the visit's: both covered types in turn, two phones per three
 * certificates (a holder with a machine and its operator licence), nine in ten expiring by the season's
 * end. The rest are the factory's certificates, moved out of the township when they are farm machines.
 */
function storedItem(i: number) {
  if (i < flags.township) {
    const type = coveredIndexes[i % coveredIndexes.length]!;
    const expiresOn = i % 10 === 9 ? addDays(SEASON_END, 30 + (i % 300)) : addDays('2026-11-15', i % 100);
    const c = factory.certificate(i, expiresOn, type);
    const holder = i - (i % 3 === 2 ? 1 : 0);
    const certificate = { ...c, township: TOWNSHIP, phone: factory.certificate(holder, expiresOn, type).phone };
    return toItem(newStoredCertificate({ reference, settings }, certificate, UPLOADED));
  }
  const c = factory.certificate(i, addDays('2027-06-01', i % 1500));
  const moved = c.township === TOWNSHIP && (COVERED_TYPES as readonly string[]).includes(c.type) ? { ...c, township: otherTownship } : c;
  return toItem(newStoredCertificate({ reference, settings }, moved, UPLOADED));
}

/** Writes certificates [from, to) with plain BatchWriteItem; returns the raw write rate's figures. */
async function load(dynamo: BenchDynamo, table: string, from: number, to: number): Promise<{ seconds: number; items: number }> {
  let next = from;
  const nextBatch = (): WriteRequest[] | undefined => {
    if (next >= to) return undefined;
    const batch: WriteRequest[] = [];
    for (const end = Math.min(next + BATCH_WRITE_SIZE, to); next < end; next += 1) batch.push({ PutRequest: { Item: storedItem(next) } });
    return batch;
  };
  const progress = progressPrinter(`load ${int(from)}–${int(to)}`, to - from, 30_000);
  const { seconds, cpu } = await timePhase(() => batchWriteStreams(dynamo.doc, table, flags.streams, nextBatch, progress));
  process.stdout.write(`loaded ${int(to - from)} certificates (${int(to)} stored) in ${seconds.toFixed(1)} s: ${rate(to - from, seconds)} raw writes (${cpuText(cpu, seconds)})\n`);
  return { seconds, items: to - from };
}

/** What a notice job does first: the covered types' certificates in the township, then one recipient per phone. */
async function findRecipients(store: DynamoDbCampaignStore): Promise<{ certificates: number; phones: number }> {
  const found: RecipientCertificate[] = [];
  for (const type of COVERED_TYPES) {
    for await (const c of store.certificatesInTownshipOfType(TOWNSHIP, type, SEASON_END)) found.push(c);
  }
  return { certificates: found.length, phones: recipientsOf(found, TOWNSHIP, SEASON_END).length };
}

/** The certificates and phones the lookup must find, counted from the generator itself. */
function expectedRecipients(): { certificates: number; phones: number } {
  const phones = new Set<string>();
  let certificates = 0;
  for (let i = 0; i < flags.township; i += 1) {
    const item = storedItem(i);
    if ((item.expiresOn as string) > SEASON_END) continue;
    certificates += 1;
    phones.add(item.phone as string);
  }
  return { certificates, phones: phones.size };
}

async function timeLookups(store: DynamoDbCampaignStore, label: string, expected: { certificates: number; phones: number }): Promise<number[]> {
  const times: number[] = [];
  for (let trial = 0; trial <= flags.trials; trial += 1) {
    const start = performance.now();
    const found = await findRecipients(store);
    const seconds = (performance.now() - start) / 1000;
    if (found.certificates !== expected.certificates || found.phones !== expected.phones) {
      throw new Error(`${label}: found ${found.certificates} certificates / ${found.phones} phones, expected ${expected.certificates} / ${expected.phones}`);
    }
    if (trial > 0) times.push(seconds);
    process.stdout.write(`${trial === 0 ? 'warm-up ' : ''}lookup with ${label} stored: ${int(found.phones)} phones from ${int(found.certificates)} certificates in ${(seconds * 1000).toFixed(0)} ms\n`);
  }
  return times;
}

/** Accepts every message at once: the job's own cost, without the SMS pacing. */
class CountingSmsSender implements SmsSender {
  sent = 0;
  send(_message: SmsMessage): Promise<SmsReceipt> {
    this.sent += 1;
    return Promise.resolve({ messageId: `bench-${this.sent}` });
  }
}

/** The schedules are not what is measured: the job is run directly at its instant. */
const noSchedules: ScheduleGateway = { scheduleOnce: async () => undefined, reschedule: async () => undefined, cancel: async () => undefined };

/** Creates the spring campaign and the visit (as of 1 December 2026), then sends its notice on the notice day. */
async function sendNotice(dynamo: BenchDynamo, store: DynamoDbCampaignStore, expectedPhones: number): Promise<{ seconds: number; sent: number }> {
  let now = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
  const clock: Clock = { now: () => now };
  const sms = new CountingSmsSender();
  const deps: CampaignDeps = {
    campaigns: { store, messages: store, recipients: store, scheduler: { gateway: noSchedules, targetArn: 'bench', roleArn: 'bench', group: 'bench' } },
    sms,
    reference,
    settings,
    logger: silentLogger,
    clock,
    wallClock: () => Date.now(),
  };
  const operator = { role: 'operator' as const, subject: 'bench' };
  const campaign = await createCampaign(deps, operator, {
    name: '2027年春季农机上门服务',
    types: [...COVERED_TYPES],
    season: { from: '2027-01-04', to: SEASON_END },
    blackouts: [{ from: '2027-02-05', to: '2027-02-13', reason: '春节假期' }],
  });
  const visit = await addVisit(deps, operator, campaign.id, {
    township: TOWNSHIP,
    date: '2027-01-20',
    place: '高兴镇农机服务站',
    slots: [
      { start: '09:00', end: '11:00', capacity: 200 },
      { start: '14:00', end: '16:00', capacity: 200 },
    ],
  });
  now = DateTime.fromISO(visit.noticeAt).setZone('Asia/Shanghai');
  const { result, seconds, cpu } = await timePhase(() => runCampaignJob(deps, { kind: 'campaignJob', campaignId: campaign.id, visitId: visit.id, job: 'notice' }, now));
  if (result.sent !== expectedPhones || sms.sent !== expectedPhones) {
    throw new Error(`notice sent ${result.sent} (sender saw ${sms.sent}), expected ${expectedPhones}: ${JSON.stringify(result)}`);
  }
  process.stdout.write(`notice: ${int(result.sent)} phones in ${seconds.toFixed(1)} s: ${rate(result.sent, seconds)} (${cpuText(cpu, seconds)}; ${dynamo.local.endpoint})\n`);
  return { seconds, sent: result.sent };
}

async function main(): Promise<void> {
  const started = performance.now();
  if (flags.township > flags.small || (flags.large > 0 && flags.small > flags.large)) throw new Error('need township ≤ small ≤ large (or --large 0)');
  process.stdout.write(`campaign benchmark — ${environmentLine()}\n`);
  process.stdout.write(`visit in ${reference.townships.resolve(TOWNSHIP)?.nameZh ?? TOWNSHIP}, types ${COVERED_TYPES.join(' + ')}, season ending ${SEASON_END}\n`);
  const expected = expectedRecipients();
  process.stdout.write(`expected: ${int(expected.phones)} phones from ${int(expected.certificates)} certificates (of ${int(flags.township)} in the township)\n`);

  const dbRoot = process.env.CERTALARM_BENCH_DB_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const dbPath = mkdtempSync(join(dbRoot, 'certalarm-bench-campaign-'));
  const memory = new MemoryPeaks();
  const dynamo = await startBenchDynamo({ dbPath });
  process.stdout.write(`DynamoDB Local (SQLite files in ${dbPath}) at ${dynamo.local.endpoint}\n`);
  try {
    const table = await dynamo.freshTable('bench-campaign');
    const store = new DynamoDbCampaignStore(dynamo.client, table);
    const smallLoad = await load(dynamo, table, 0, flags.small);
    const small = await timeLookups(store, int(flags.small), expected);
    const notice = await sendNotice(dynamo, store, expected.phones);
    let large: number[] = [];
    let largeLoad: { seconds: number; items: number } | undefined;
    if (flags.large > 0) {
      largeLoad = await load(dynamo, table, flags.small, flags.large);
      large = await timeLookups(store, int(flags.large), expected);
    }
    memory.stop();

    const ratio = large.length > 0 ? mean(large) / mean(small) : undefined;
    const loads = [smallLoad, ...(largeLoad !== undefined ? [largeLoad] : [])];
    const writes = loads.reduce((n, l) => n + l.items, 0);
    const writeSeconds = loads.reduce((n, l) => n + l.seconds, 0);
    const lookupRow = (label: number, times: number[]): [string, string] => [
      `lookup, ${int(label)} stored`,
      `${(mean(times) * 1000).toFixed(0)} ms mean (trials ${times.map((t) => (t * 1000).toFixed(0)).join(', ')} ms)`,
    ];
    printSummary(
      `campaign recipients, ${int(flags.township)} farm-machine certificates in one township`,
      [
        ['recipients', `${int(expected.phones)} phones from ${int(expected.certificates)} certificates (same at both sizes: yes)`],
        lookupRow(flags.small, small),
        ...(large.length > 0 ? [lookupRow(flags.large, large)] : []),
        ['time ratio large/small', ratio === undefined ? 'not measured (--large 0)' : ratio.toFixed(3)],
        ['raw DynamoDB Local writes', `${rate(writes, writeSeconds)} (${int(writes)} BatchWriteItem puts, ${flags.streams} streams, SQLite files in ${dbRoot})`],
        ['notice send rate', `${rate(notice.sent, notice.seconds)} (${int(notice.sent)} phones in ${notice.seconds.toFixed(1)} s, unthrottled fake sender) = ${(notice.sent / notice.seconds / (writes / writeSeconds)).toFixed(3)} × the raw write rate`],
        ['peak RSS (bench process)', `${mb(memory.peakRss)} sampled, maxRSS ${mb(maxRssBytes())}`],
        ['benchmark elapsed', `${((performance.now() - started) / 1000).toFixed(0)} s in all`],
      ],
      `time ratio (${int(flags.large)} / ${int(flags.small)}) ≤ ${GOAL_RATIO}`,
      ratio === undefined ? undefined : ratio <= GOAL_RATIO,
    );
  } finally {
    await dynamo.stop();
    rmSync(dbPath, { recursive: true, force: true });
  }
}

await main();
