/**
 * Rule-change re-plan benchmark: certificates per second through certalarm's re-plan after a rule
 * change (`changeRule` with the real `DynamoDbStore` and its re-plan mark: the byType index read page
 * by page, whole re-planned certificates put back with BatchWriteItem, the repair pass at the end),
 * against plain BatchWriteItem of the very same re-planned items, on one in-memory DynamoDB Local started here.
 *
 *   npm run bench:replan                    # 200,000 certificates of one type
 *   npx tsx bench/replan.ts --count 10000   # quick check
 *
 * Order: both paths warmed up, then raw, re-plan, raw, each on its own table holding the same
 * certificates; the ratio is the re-plan rate over the mean of the two raw rates, so neither warm-up
 * nor a slow stretch of a shared machine favours one side.
 */
import { DateTime } from 'luxon';
import { DynamoDbReplanMarks } from '../functions/adapters/aws/dynamodb/dynamodb-replan-marks.js';
import { DynamoDbRuleStore } from '../functions/adapters/aws/dynamodb/dynamodb-rule-store.js';
import { DynamoDbStore, toItem } from '../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { silentLogger } from '../functions/app/logger.js';
import { loadReferenceData } from '../functions/app/reference-data.js';
import { changeRule, mergeRuleReplan, ruleStages, type RuleDeps } from '../functions/app/rules/change-rule.js';
import { StoredRuleSource } from '../functions/app/rules/stored-rules.js';
import { settingsFromEnvironment } from '../functions/app/settings.js';
import type { IsoDate, StageRule } from '../functions/core/model.js';
import { addDays, todayIn } from '../functions/core/planning.js';
import type { Clock, StoredCertificate } from '../functions/core/ports.js';
import { defaultStages } from '../functions/core/rules.js';
import { certificateFactory, newStoredCertificate } from './lib/certificates.js';
import { batchWriteStreams, putBatchesOf, startBenchDynamo, type BenchDynamo, type Item } from './lib/dynamo.js';
import { readFlags } from './lib/flags.js';
import { cpuText, environmentLine, int, maxRssBytes, mb, mean, printSummary, processMemory, rate, timePhase } from './lib/measure.js';

const flags = readFlags('Usage: npx tsx bench/replan.ts [options]', {
  count: { description: 'certificates of the type re-planned (and written raw) in each measured phase', default: 200_000 },
  warmup: { description: 'certificates re-planned and written raw before measuring', default: 2_000, min: 0 },
  // 1 GiB ran 20,000 and 50,000 but DynamoDB Local died (heap exhausted, as far as could be told) in a 200,000 run.
  heap: { description: "DynamoDB Local's Java heap limit in MiB (0: the JVM's own default, a quarter of the machine)", default: 4096, min: 0 },
});

const STREAMS = 4;
const GOAL_RATIO = 0.7;
const NOW = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
const clock: Clock = { now: () => NOW };
const reference = loadReferenceData();
const settings = settingsFromEnvironment({});
const factory = certificateFactory(reference);
const TYPE_INDEX = reference.catalogue.all().findIndex((t) => t.code === 'pesticide_business_license');
const type = reference.catalogue.all()[TYPE_INDEX]!;
const today = todayIn(NOW);
/** Expiries from a month ago to three years ahead: every certificate still has a stage to re-plan. */
const expiry = (i: number): IsoDate => addDays(today, -30 + ((i * 7919) % (3 * 365 + 30)));
/** The change measured: one stage added between the first and the final reminder. */
const NEW_STAGES: StageRule[] = [...defaultStages(settings.stagePolicy), { name: 'extra', from: 'deadline', days: -15, template: '提醒：您的{typeName}（编号{number}）请{applyBy}办理{action}。' }];

function storedCertificates(from: number, count: number): StoredCertificate[] {
  return Array.from({ length: count }, (_, k) => newStoredCertificate({ reference, settings }, factory.certificate(from + k, expiry(from + k), TYPE_INDEX), NOW));
}

/** Exactly what the re-plan writes for each certificate: the merged plan, one version on. */
function replannedItems(stored: readonly StoredCertificate[]): Item[] {
  const rule = { enabled: true, stages: NEW_STAGES };
  return stored.map((s) => {
    const plan = mergeRuleReplan(s.plan, ruleStages(s.certificate.expiresOn, type, rule, reference.calendar, settings), NOW.toMillis());
    return toItem({ ...s, plan, version: s.version + 1, updatedAt: NOW.toISO() ?? '' });
  });
}

async function seededTable(dynamo: BenchDynamo, prefix: string, stored: readonly StoredCertificate[]): Promise<string> {
  const table = await dynamo.freshTable(prefix);
  await new DynamoDbStore(dynamo.client, table).putCertificates([...stored]);
  return table;
}

async function rawPhase(dynamo: BenchDynamo, stored: readonly StoredCertificate[], items: readonly Item[]) {
  const table = await seededTable(dynamo, 'bench-replan-raw', stored);
  const phase = await timePhase(() => batchWriteStreams(dynamo.doc, table, STREAMS, putBatchesOf(items)));
  await dynamo.dropTable(table);
  return phase;
}

async function replanPhase(dynamo: BenchDynamo, stored: readonly StoredCertificate[]) {
  const table = await seededTable(dynamo, 'bench-replan', stored);
  const store = new DynamoDbStore(dynamo.client, table);
  const ruleStore = new DynamoDbRuleStore(dynamo.client, table);
  const deps: RuleDeps = {
    ruleStore,
    rules: new StoredRuleSource({ rules: ruleStore, clock, policy: settings.stagePolicy }),
    store,
    typeCertificates: store,
    reference,
    settings,
    clock,
    logger: silentLogger,
    replanMarks: new DynamoDbReplanMarks(dynamo.client, table),
  };
  const phase = await timePhase(() => changeRule(deps, { role: 'operator', subject: 'bench' }, type.code, { comment: 'benchmark', enabled: true, expectedVersion: 0, stages: NEW_STAGES }));
  const replan = phase.result.replan;
  if (replan.state !== 'done' || replan.done !== stored.length || replan.replanned !== stored.length) {
    throw new Error(`re-plan did not re-plan every certificate: ${JSON.stringify(replan)}`);
  }
  await dynamo.dropTable(table);
  return phase;
}

/**
 * DynamoDB Local's CPU per certificate in each path, and raw over re-plan: the same comparison as the
 * ratio, less moved by other work on a shared machine (which stretches wall time, not CPU time).
 */
function dynamoCpuText(replanS: number | undefined, rawS: ReadonlyArray<number | undefined>): string {
  const raws = rawS.filter((s): s is number => s !== undefined);
  if (replanS === undefined || raws.length === 0) return 'unknown';
  const perReplan = (replanS / flags.count) * 1000;
  const perRaw = (mean(raws) / flags.count) * 1000;
  return `re-plan ${perReplan.toFixed(2)} ms per certificate, raw ${perRaw.toFixed(2)} ms; raw/re-plan ${(perRaw / perReplan).toFixed(2)}`;
}

/** DynamoDB Local's high-water mark of resident memory (VmHWM), read before it is stopped. */
function jvmPeakText(dynamo: BenchDynamo): string {
  const memory = dynamo.local.pid === undefined ? undefined : processMemory(dynamo.local.pid);
  return memory === undefined ? 'unknown' : `${memory.peakMb.toFixed(0)} MB`;
}

async function main(): Promise<void> {
  process.stderr.write(`${environmentLine()}\nbuilding ${int(flags.count)} certificates of ${type.code}…\n`);
  const dynamo = await startBenchDynamo(flags.heap > 0 ? { maxHeapMb: flags.heap } : {});
  try {
    if (flags.warmup > 0) {
      const warm = storedCertificates(10_000_000, flags.warmup);
      await rawPhase(dynamo, warm, replannedItems(warm));
      await replanPhase(dynamo, warm);
    }
    const stored = storedCertificates(0, flags.count);
    const items = replannedItems(stored);
    process.stderr.write('raw BatchWriteItem…\n');
    const raw1 = await rawPhase(dynamo, stored, items);
    process.stderr.write(`  ${rate(flags.count, raw1.seconds)} (${raw1.seconds.toFixed(1)} s)\nre-plan…\n`);
    const replan = await replanPhase(dynamo, stored);
    process.stderr.write(`  ${rate(flags.count, replan.seconds)} (${replan.seconds.toFixed(1)} s)\nraw BatchWriteItem again…\n`);
    const raw2 = await rawPhase(dynamo, stored, items);
    const rawRate = mean([flags.count / raw1.seconds, flags.count / raw2.seconds]);
    const replanRate = flags.count / replan.seconds;
    const ratio = replanRate / rawRate;
    printSummary(
      `re-plan of ${int(flags.count)} ${type.code} certificates after a rule change`,
      [
        ['environment', environmentLine()],
        ['re-plan', `${rate(flags.count, replan.seconds)} (${replan.seconds.toFixed(1)} s; ${cpuText(replan.cpu, replan.seconds)})`],
        ['raw BatchWriteItem', `${Math.round(rawRate).toLocaleString('en-US')}/s (mean of ${raw1.seconds.toFixed(1)} s and ${raw2.seconds.toFixed(1)} s)`],
        ['ratio', ratio.toFixed(2)],
        ['DynamoDB Local CPU', dynamoCpuText(replan.cpu.dynamoCpuS, [raw1.cpu.dynamoCpuS, raw2.cpu.dynamoCpuS])],
        ['peak RSS', `node ${mb(maxRssBytes())}, DynamoDB Local ${jvmPeakText(dynamo)} (Java heap ${flags.heap > 0 ? `limited to ${flags.heap} MiB` : "the JVM's default"})`],
      ],
      `re-plan rate ≥ ${GOAL_RATIO} × raw BatchWriteItem of the same items`,
      ratio >= GOAL_RATIO,
    );
  } finally {
    await dynamo.stop();
  }
}

await main();
