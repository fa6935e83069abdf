/**
 * Spreadsheet import benchmark: a generated CSV of 1,000,000 rows imported into DynamoDB Local
 * through certalarm's whole import path (streamed read, Excel repair, validation, duplicate check,
 * planning, resumable chunked writes), against plain BatchWriteItem of the very same items on the
 * same DynamoDB Local instance, in the same run; plus the import's peak RSS.
 *
 *   npx tsx bench/import-file.ts                 # 1,000,000 rows
 *   npx tsx bench/import-file.ts --rows 50000    # quick check
 *   npx tsx bench/import-file.ts --service 1 --rows 100000 --scan 1
 *
 * `--service 1` measures memory where a user sees it: the real local service (`certalarm serve`, its
 * data on disk as `npm start` keeps it) runs as a child process, the CSV is uploaded to it through
 * `POST /v1/imports`, and the RSS of its whole process tree — the node process and the DynamoDB
 * Local JVM it starts — is read from /proc every 200 ms from start to end. It prints node, JVM and
 * both together at rest before the upload, when the import is done, optionally after a due scan that
 * sends the catch-up reminders the import made due (`--scan 1`), and `--settle` seconds later; and
 * the peaks. The service's environment is passed on, so `CERTALARM_DYNAMODB_HEAP_MB=0` measures the
 * JVM without its heap cap.
 *
 * Order: raw, import, raw (each into a fresh table); the ratio is the import rate over the mean of
 * the two raw rates. The import runs in a child process so that its peak RSS is its own. The raw
 * phases time only the BatchWriteItem calls: items are built in untimed slices beforehand.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DateTime } from 'luxon';
import { DynamoDbImportStore } from '../functions/adapters/aws/dynamodb/dynamodb-import-store.js';
import { DynamoDbStore, toItem } from '../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { localDynamoClientConfig } from '../functions/adapters/local/dynamodb-local.js';
import { LocalImportFiles } from '../functions/adapters/local/local-imports.js';
import { createImport, runImport } from '../functions/app/imports/run-import.js';
import { createLogger, silentLogger } from '../functions/app/logger.js';
import { loadReferenceData } from '../functions/app/reference-data.js';
import { settingsFromEnvironment } from '../functions/app/settings.js';
import type { IsoDate } from '../functions/core/model.js';
import { addDays, todayIn } from '../functions/core/planning.js';
import { certificateFactory, newStoredCertificate } from './lib/certificates.js';
import { batchWriteStreams, startBenchDynamo, type Item, type WriteRequest } from './lib/dynamo.js';
import { readFlags } from './lib/flags.js';
import { environmentLine, int, mean, printSummary, processTree, rate } from './lib/measure.js';

const NOW = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
const GOAL_RATIO = 0.8;
const GOAL_RSS_MB = 300;
/** "Back near the baseline": what an idle service may keep of an import it has finished. */
const GOAL_RETURN_MB = 50;
/** The flags `npm start` passes to node for the service (package.json's "start" script). */
const SERVICE_NODE_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size'];
const STREAMS = 4;
const SLICE = 20_000;

const reference = loadReferenceData();
const settings = settingsFromEnvironment({});
const factory = certificateFactory(reference);
const today = todayIn(NOW);
// Only types that take an expiry: a row of a type without one (tractor registrations …) that gives a date is rejected.
const expiring = factory.types.flatMap((type, index) => (type.reminders ? [index] : []));
const typeOf = (i: number): number => expiring[i % expiring.length] ?? 0;
const expiry = (i: number): IsoDate => addDays(today, -30 + ((i * 7919) % (3 * 365 + 30)));

interface ChildResult {
  seconds: number;
  maxRssMb: number;
  state: string;
  counts: Record<string, number>;
}

async function child(): Promise<void> {
  const [endpoint = '', table = '', file = '', dir = ''] = process.argv.slice(3);
  const client = new DynamoDBClient(localDynamoClientConfig(endpoint));
  const store = new DynamoDbStore(client, table);
  const imports = new DynamoDbImportStore(client, table);
  const files = new LocalImportFiles(dir);
  const deps = {
    store,
    reference,
    settings,
    imports,
    openSpreadsheet: files.opener(),
    removeFile: (key: string) => files.remove(key),
    limits: { maxBytes: 2 ** 31, maxRows: 2_000_000 },
    logger: process.env.BENCH_VERBOSE === '1' ? createLogger({ destination: process.stderr }) : silentLogger,
    clock: { now: () => NOW },
  };
  const started = process.hrtime.bigint();
  const sha256 = await new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file).on('data', (c) => hash.update(c)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
  });
  const { record } = await createImport(deps, { role: 'operator', subject: 'bench' }, {
    fileName: 'bench.csv',
    contentType: 'text/csv',
    bytes: statSync(file).size,
    sha256,
    blobKey: file,
    options: { allOrNothing: false },
  });
  const state = await runImport(deps, record.id);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const done = await imports.getImport(record.id);
  const result: ChildResult = { seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, state, counts: { ...(done?.counts ?? {}) } };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  client.destroy();
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (line: string) => (out.write(line) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  await write('\uFEFF证照类型,证照编号,持证主体,统一社会信用代码/身份证号,联系电话,所属乡镇,发证日期,有效期至\r\n');
  for (let i = 0; i < rows; i += 1) {
    const r = factory.record(i, expiry(i), typeOf(i)) as { type: string; number: string; holder: { name: string; id?: string }; phone: string; township: string; issuedOn: string; expiresOn: string };
    // Every other row the way Excel exports it: Chinese type name and 2026/3/1 dates, to exercise the repairs.
    const excel = i % 2 === 1;
    const type = excel ? (reference.catalogue.get(r.type)?.nameZh ?? r.type) : r.type;
    const issued = excel ? r.issuedOn.replace(/^(\d{4})-0?(\d+)-0?(\d+)$/, '$1/$2/$3') : r.issuedOn;
    await write(`${type},${r.number},${r.holder.name},${r.holder.id ?? ''},${r.phone},${r.township},${issued},${r.expiresOn}\r\n`);
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** Plain BatchWriteItem of exactly the items the import writes; only the write calls are timed. */
async function rawPhase(doc: Parameters<typeof batchWriteStreams>[0], table: string, rows: number): Promise<number> {
  let seconds = 0;
  for (let start = 0; start < rows; start += SLICE) {
    const items: Item[] = [];
    for (let i = start; i < Math.min(rows, start + SLICE); i += 1) items.push(toItem(newStoredCertificate({ reference, settings }, factory.certificate(i, expiry(i), typeOf(i)), NOW)));
    let next = 0;
    const nextBatch = (): WriteRequest[] | undefined => {
      if (next >= items.length) return undefined;
      const batch = items.slice(next, next + 25).map((Item) => ({ PutRequest: { Item } }));
      next += 25;
      return batch;
    };
    const t0 = process.hrtime.bigint();
    await batchWriteStreams(doc, table, STREAMS, nextBatch);
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    if ((start / SLICE) % 10 === 0) process.stderr.write(`  raw ${int(Math.min(rows, start + SLICE))}/${int(rows)}\n`);
  }
  return seconds;
}

/** Resident memory of the service's process tree: its node process, DynamoDB Local's JVM, and all of it together. */
interface TreeMemory {
  nodeMb: number;
  jvmMb: number;
  totalMb: number;
}

/**
 * Samples the service's process tree from /proc and keeps each figure's peak. The node and JVM
 * peaks also take the kernel's high-water mark (VmHWM) of each process, which catches spikes
 * between samples; the total's peak is the largest sampled sum (the two processes need not peak at
 * the same moment, so adding their high-water marks would overstate it).
 */
class TreeSampler {
  readonly peak: TreeMemory = { nodeMb: 0, jvmMb: 0, totalMb: 0 };

  constructor(private readonly root: number) {}

  sample(): TreeMemory {
    const tree = processTree(this.root);
    const node = tree.find((p) => p.pid === this.root);
    const jvm = tree.filter((p) => p.comm === 'java');
    const now: TreeMemory = {
      nodeMb: node?.rssMb ?? 0,
      jvmMb: jvm.reduce((sum, p) => sum + p.rssMb, 0),
      totalMb: tree.reduce((sum, p) => sum + p.rssMb, 0),
    };
    this.peak.nodeMb = Math.max(this.peak.nodeMb, now.nodeMb, node?.peakMb ?? 0);
    this.peak.jvmMb = Math.max(this.peak.jvmMb, now.jvmMb, jvm.reduce((sum, p) => sum + p.peakMb, 0));
    this.peak.totalMb = Math.max(this.peak.totalMb, now.totalMb);
    return now;
  }
}

const mbText = (m: TreeMemory): string => `node ${m.nodeMb.toFixed(0)} MB + JVM ${m.jvmMb.toFixed(0)} MB = ${m.totalMb.toFixed(0)} MB`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const SERVICE_TOKEN = 'bench-import-file-token';
/** How often the process tree is sampled while the service runs. */
const SAMPLE_MS = 200;

/**
 * The CSV uploaded through the running HTTP service, as `npm start` runs it (its data on disk), with
 * the RSS of its whole process tree — node and DynamoDB Local's JVM — sampled from start to end.
 */
async function serviceMain(rows: number, options: { settleMs: number; scan: boolean }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'certalarm-bench-service-'));
  const csv = join(dir, 'certificates.csv');
  console.log(environmentLine());
  console.log(`generating ${int(rows)} rows…`);
  await writeCsv(csv, rows);
  const bytes = statSync(csv).size;
  console.log(`  ${(bytes / 1048576).toFixed(1)} MB`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const bin = fileURLToPath(new URL('../bin/certalarm.js', import.meta.url));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CERTALARM_DATA_DIR: join(dir, 'data'),
    CERTALARM_ADMIN_TOKEN: SERVICE_TOKEN,
    CERTALARM_NOW: NOW.toISO() ?? '',
    // The scan phase measures memory, not pacing: let it send as fast as the store allows.
    CERTALARM_SMS_RATE: '1000',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // The node flags `npm start` gives the service (package.json). V8's semi-spaces capped at 4 MiB instead
  // of 16 MiB, which start-up fills and then keeps resident: at 20,000 rows node rested at 126 MB instead
  // of 149 MB, but its peak was no lower (189 MB against 187 MB). --optimize-for-size makes V8 grow its
  // old generation less eagerly and collect it sooner: with both, node rested at 106 MB and peaked at
  // 128 MB, and the import ran no slower (419 rows/s against 310). 1 MiB semi-spaces alone went lower at
  // rest (111 MB) but peaked higher (196 MB), as short-lived objects were promoted.
  const service = spawn(process.execPath, [...SERVICE_NODE_FLAGS, bin, 'serve', '--port', String(port), '--no-demo', '--scan-every', '0', '--log-json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stdout = '';
  let stderr = '';
  service.stdout.on('data', (chunk: Buffer) => (stdout = `${stdout}${chunk.toString()}`.slice(-200_000)));
  service.stderr.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => service.once('exit', (code) => resolve(code)));
  const pid = service.pid ?? 0;
  const tree = new TreeSampler(pid);
  const sampler = setInterval(() => tree.sample(), SAMPLE_MS);
  const api = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${SERVICE_TOKEN}`, ...(init.headers as Record<string, string> | undefined) } });
  try {
    for (let waited = 0; !stdout.includes('listening on'); waited += 100) {
      if (service.exitCode !== null || waited > 60_000) throw new Error(`the service did not start:\n${stderr}`);
      await sleep(100);
    }
    await sleep(options.settleMs);
    const baseline = tree.sample();
    console.log(`service up (node pid ${pid}): ${mbText(baseline)}; uploading…`);

    const started = process.hrtime.bigint();
    const answer = await api('/v1/imports?fileName=bench.csv', { method: 'POST', body: readFileSync(csv), headers: { 'content-type': 'text/csv' } });
    const { id } = (await answer.json()) as { id: string };
    if (answer.status !== 202) throw new Error(`upload answered ${answer.status}`);
    let status: { state: string; counts: Record<string, number>; progress: { rowsDone: number } };
    for (let polls = 0; ; polls += 1) {
      status = (await (await api(`/v1/imports/${id}`)).json()) as typeof status;
      if (status.state === 'done' || status.state === 'failed') break;
      if (polls % 50 === 0) process.stderr.write(`  ${status.state} ${int(status.progress.rowsDone)}/${int(rows)}, ${mbText(tree.sample())}\n`);
      await sleep(200);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (status.state !== 'done' || status.counts.created !== rows) throw new Error(`import ended ${status.state} with ${JSON.stringify(status.counts)}`);
    const done = tree.sample();
    const lines: Array<[string, string]> = [
      ['import (upload, check pass, store pass)', `${rate(rows, seconds)} rows (${seconds.toFixed(1)} s)`],
      [`at rest before the upload (${options.settleMs / 1000} s after start)`, mbText(baseline)],
      ['when the import is done', mbText(done)],
    ];
    if (options.scan) {
      // A bulk import of older records makes many catch-up reminders due at once; the scan sends them all.
      const t0 = process.hrtime.bigint();
      const scanAnswer = await api('/v1/scans', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      const scan = (await scanAnswer.json()) as { sent?: number; incomplete?: boolean };
      const scanSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const outbox = (await (await api('/v1/outbox')).json()) as unknown[];
      lines.push(
        ['due scan after the import', `${int(scan.sent ?? 0)} SMS sent in ${scanSeconds.toFixed(1)} s${scan.incomplete === true ? ' (stopped at its budget)' : ''}; GET /v1/outbox lists ${int(outbox.length)}`],
        ['when the scan is done', mbText(tree.sample())],
      );
    }
    await sleep(options.settleMs);
    const after = tree.sample();
    const peak = tree.peak;
    const returned = after.totalMb - baseline.totalMb;
    lines.push(
      [`${options.settleMs / 1000} s later`, `${mbText(after)} (${returned >= 0 ? '+' : ''}${returned.toFixed(0)} MB against the baseline; goal within ${GOAL_RETURN_MB} MB)`],
      ['peak, start-up included', `node ${peak.nodeMb.toFixed(0)} MB, JVM ${peak.jvmMb.toFixed(0)} MB, together ${peak.totalMb.toFixed(0)} MB (goal < ${GOAL_RSS_MB} MB)`],
      ['DynamoDB Local heap setting', `CERTALARM_DYNAMODB_HEAP_MB=${process.env.CERTALARM_DYNAMODB_HEAP_MB ?? '(unset)'}`],
    );
    printSummary(
      `Spreadsheet import through the running service: ${int(rows)} CSV rows (${(bytes / 1048576).toFixed(1)} MB) via POST /v1/imports`,
      lines,
      `the service's process tree (node + DynamoDB Local) peaks < ${GOAL_RSS_MB} MB and returns within ${GOAL_RETURN_MB} MB of its baseline`,
      peak.totalMb < GOAL_RSS_MB && returned < GOAL_RETURN_MB,
    );
  } finally {
    clearInterval(sampler);
    service.kill('SIGTERM');
    const killer = setTimeout(() => service.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const flags = readFlags('Usage: npx tsx bench/import-file.ts [options]', {
    rows: { description: 'data rows in the generated CSV', default: 1_000_000 },
    service: { description: '1: import through the running HTTP service and measure its process tree (see the header)', default: 0, min: 0 },
    settle: { description: 'service mode: seconds left idle before the baseline and after the import', default: 10 },
    scan: { description: 'service mode: 1 runs a due scan after the import (sends the catch-up SMS)', default: 0, min: 0 },
  });
  const rows = flags.rows;
  if (flags.service === 1) {
    await serviceMain(rows, { settleMs: flags.settle * 1000, scan: flags.scan === 1 });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'certalarm-bench-import-'));
  const csv = join(dir, 'certificates.csv');
  console.log(environmentLine());
  console.log(`generating ${int(rows)} rows…`);
  await writeCsv(csv, rows);
  console.log(`  ${(statSync(csv).size / 1048576).toFixed(1)} MB`);
  const dynamo = await startBenchDynamo();
  try {
    const rawTable1 = await dynamo.freshTable('raw1');
    console.log('raw BatchWriteItem (1)…');
    const raw1 = await rawPhase(dynamo.doc, rawTable1, rows);
    await dynamo.dropTable(rawTable1);

    const importTable = await dynamo.freshTable('import');
    const copy = join(dir, 'upload.csv');
    copyFileSync(csv, copy);
    console.log('import (child process)…');
    const imported = await new Promise<ChildResult>((resolve, reject) => {
      const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', dynamo.local.endpoint, importTable, copy, dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildResult) : reject(new Error(`import child exited ${code}`))));
    });
    if (imported.state !== 'done' || imported.counts.created !== rows) throw new Error(`import ended ${imported.state} with ${JSON.stringify(imported.counts)}`);
    await dynamo.dropTable(importTable);

    const rawTable2 = await dynamo.freshTable('raw2');
    console.log('raw BatchWriteItem (2)…');
    const raw2 = await rawPhase(dynamo.doc, rawTable2, rows);
    await dynamo.dropTable(rawTable2);

    const rawRate = mean([rows / raw1, rows / raw2]);
    const importRate = rows / imported.seconds;
    const ratio = importRate / rawRate;
    printSummary(
      `Spreadsheet import: ${int(rows)} CSV rows into DynamoDB Local`,
      [
        ['import (read, repair, validate, plan, write)', `${rate(rows, imported.seconds)} rows (${imported.seconds.toFixed(1)} s)`],
        ['raw BatchWriteItem, same items', `${Math.round(rawRate).toLocaleString('en')} items/s (runs: ${raw1.toFixed(1)} s, ${raw2.toFixed(1)} s)`],
        ['ratio import / raw', `${ratio.toFixed(2)} (goal ≥ ${GOAL_RATIO})`],
        ['import peak RSS', `${imported.maxRssMb.toFixed(0)} MB (goal < ${GOAL_RSS_MB} MB)`],
      ],
      `ratio ≥ ${GOAL_RATIO} and peak RSS < ${GOAL_RSS_MB} MB`,
      ratio >= GOAL_RATIO && imported.maxRssMb < GOAL_RSS_MB,
    );
  } finally {
    await dynamo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child();
else await main();
