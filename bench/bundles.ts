/**
 * Bundle benchmark: builds each Lambda handler exactly as the stack does (lib/bundling.ts), plus a
 * minimal handler that only imports one AWS SDK client, then reports bundle sizes and cold-init cost
 * (a fresh `node` process importing the bundle, median of several runs) as ratios to the minimal handler.
 * The runs take the bundles in turn (minimal, handlers, minimal, …), so a burst of other work on the
 * machine falls on all of them alike; besides the wall time of the import, the child reports the CPU
 * time it spent importing, which other processes on a busy machine disturb far less.
 *
 *   npx tsx bench/bundles.ts             # 10 runs per bundle
 *   npx tsx bench/bundles.ts --runs 20
 *
 * Goals: every bundle under 1 MiB, and each handler's init at most 2x the minimal handler's.
 * Exit status: 1 when a handler entry is missing, 3 when a goal is not met, 0 otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions, HANDLER_ENTRIES, type HandlerName, PROJECT_ROOT } from '../lib/bundling.js';
import { loadDeploymentConfig } from '../lib/config.js';
import { runtimeEnvironment } from '../lib/runtime-environment.js';

const SIZE_GOAL_BYTES = 1024 * 1024;
const INIT_GOAL_RATIO = 2;
/** Git- and lint-ignored: minified bundles are build output, not source. */
const OUT_DIR = join(PROJECT_ROOT, '.certalarm', 'bench-bundles');

/** The baseline: what any Lambda that talks to DynamoDB pays before doing anything of its own. */
const MINIMAL_HANDLER = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({});
export const handler = async () => ({ statusCode: 200, body: typeof client.send });
`;

function parseRuns(argv: readonly string[]): number {
  const i = argv.indexOf('--runs');
  if (i === -1) return 10;
  const runs = Number(argv[i + 1]);
  if (!Number.isInteger(runs) || runs < 3 || runs > 100) {
    console.error('--runs takes a whole number from 3 to 100');
    process.exit(2);
  }
  return runs;
}

interface Measured {
  name: string;
  bytes: number;
  gzipBytes: number;
  initMs: number;
  /** CPU time (user + system) the child spent importing the bundle, median of the runs. */
  initCpuMs: number;
  processMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The environment the stack gives the functions, plus what the Lambda runtime itself sets. */
function lambdaLikeEnvironment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...runtimeEnvironment(loadDeploymentConfig('dev'), 'certalarm-bench'),
    AWS_REGION: 'ap-southeast-1',
    AWS_LAMBDA_FUNCTION_NAME: 'certalarm-bench',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };
}

interface ColdInit {
  initMs: number;
  initCpuMs: number;
  processMs: number;
}

/** Import the bundle in a fresh process; the child reports how long the import (module init) took, in wall and CPU time. */
function coldInitOnce(bundle: string, env: NodeJS.ProcessEnv): ColdInit {
  const script =
    `const c0 = process.cpuUsage(); const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); ` +
    'const t = performance.now() - t0; const c = process.cpuUsage(c0); process.stdout.write(`${t} ${(c.user + c.system) / 1000}`);';
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  const elapsed = performance.now() - started;
  if (child.status !== 0) {
    throw new Error(`importing ${bundle} failed (exit ${child.status}):\n${child.stderr}`);
  }
  const [initMs, initCpuMs] = child.stdout.split(' ').map(Number);
  return { initMs: initMs!, initCpuMs: initCpuMs!, processMs: elapsed };
}

/** `runs` cold imports of each bundle, the bundles taken in turn; medians per bundle. */
function coldInits(bundles: readonly string[], runs: number): ColdInit[] {
  const env = lambdaLikeEnvironment();
  const samples = bundles.map(() => [] as ColdInit[]);
  for (let run = 0; run < runs + 1; run += 1) {
    bundles.forEach((bundle, i) => {
      const sample = coldInitOnce(bundle, env);
      // The first run warms the file cache and is not counted.
      if (run > 0) samples[i]!.push(sample);
    });
  }
  return samples.map((taken) => ({
    initMs: median(taken.map((s) => s.initMs)),
    initCpuMs: median(taken.map((s) => s.initCpuMs)),
    processMs: median(taken.map((s) => s.processMs)),
  }));
}

async function bundle(name: string, entry: string | { contents: string }): Promise<string> {
  const outfile = join(OUT_DIR, name, 'index.mjs');
  rmSync(join(OUT_DIR, name), { recursive: true, force: true });
  mkdirSync(join(OUT_DIR, name), { recursive: true });
  const options = esbuildOptions(typeof entry === 'string' ? entry : '', outfile);
  if (typeof entry === 'string') {
    await build(options);
  } else {
    const { entryPoints: _unused, ...rest } = options;
    await build({ ...rest, stdin: { contents: entry.contents, resolveDir: PROJECT_ROOT, loader: 'ts', sourcefile: 'minimal-handler.ts' } });
  }
  return outfile;
}

function sizes(file: string): { bytes: number; gzipBytes: number } {
  return { bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number) => `${value.toFixed(2)}x`;

async function main(): Promise<void> {
  const runs = parseRuns(process.argv.slice(2));
  const missing = (Object.entries(HANDLER_ENTRIES) as [HandlerName, string][]).filter(([, entry]) => !existsSync(entry));
  if (missing.length > 0) {
    for (const [name, entry] of missing) console.error(`bench/bundles: handler "${name}" has no entry file at ${entry}`);
    console.error('bench/bundles: nothing measured; write the missing handler(s) first (each exports `handler`).');
    process.exit(1);
  }

  console.log(`Bundling as the stack does (esbuild, ESM, minified, node22), ${runs} cold imports each, the bundles in turn (+1 warm-up round, not counted)\n`);
  const names = ['minimal (DynamoDB client only)', ...Object.keys(HANDLER_ENTRIES)];
  const files = [await bundle('minimal', { contents: MINIMAL_HANDLER })];
  for (const [name, entry] of Object.entries(HANDLER_ENTRIES) as [HandlerName, string][]) files.push(await bundle(name, entry));
  const inits = coldInits(files, runs);
  const [minimal, ...handlers] = files.map((file, i): Measured => ({ name: names[i]!, ...sizes(file), ...inits[i]! }));
  if (minimal === undefined) throw new Error('bench/bundles: the minimal handler was not measured');

  const rows = [minimal, ...handlers].map((m) => ({
    bundle: m.name,
    size: kib(m.bytes),
    gzip: kib(m.gzipBytes),
    'size ratio': ratio(m.bytes / minimal.bytes),
    'init (import)': ms(m.initMs),
    'init ratio': ratio(m.initMs / minimal.initMs),
    'init CPU': ms(m.initCpuMs),
    'CPU ratio': ratio(m.initCpuMs / minimal.initCpuMs),
    'process total': ms(m.processMs),
  }));
  console.table(rows);

  let met = true;
  console.log('\nGoals');
  for (const m of [minimal, ...handlers]) {
    const sizeOk = m.bytes < SIZE_GOAL_BYTES;
    met &&= sizeOk;
    console.log(`  ${sizeOk ? 'met    ' : 'NOT MET'}  ${m.name}: ${kib(m.bytes)} < 1 MiB (${(SIZE_GOAL_BYTES / 1024).toFixed(0)} KiB)`);
  }
  for (const m of handlers) {
    const initOk = m.initMs <= INIT_GOAL_RATIO * minimal.initMs;
    met &&= initOk;
    console.log(`  ${initOk ? 'met    ' : 'NOT MET'}  ${m.name}: init ${ms(m.initMs)} is ${ratio(m.initMs / minimal.initMs)} the minimal handler's ${ms(minimal.initMs)} (goal <= ${INIT_GOAL_RATIO}x)`);
  }
  console.log(`\nnode ${process.version}, bundles in ${OUT_DIR}`);
  console.log(met ? 'All goals met.' : 'Some goals NOT met.');
  if (!met) process.exitCode = 3;
}

await main();
