/**
 * Clocks, memory and CPU figures for the benchmarks, and the labelled summary block each one ends with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

const MB = 1024 * 1024;

/** Peak resident set and heap, sampled on a timer and whenever `sample()` is called. */
export class MemoryPeaks {
  peakRss = 0;
  peakHeapUsed = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** A synchronous loop never lets the timer fire, so it calls this itself. */
  sample(): void {
    const { rss, heapUsed } = process.memoryUsage();
    if (rss > this.peakRss) this.peakRss = rss;
    if (heapUsed > this.peakHeapUsed) this.peakHeapUsed = heapUsed;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** The kernel's high-water mark of this process's resident set (`getrusage` ru_maxrss), in bytes. */
export function maxRssBytes(): number {
  // Node reports maxRSS in kilobytes.
  return process.resourceUsage().maxRSS * 1024;
}

export function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}

interface CpuTicks {
  busy: number;
  total: number;
}

function systemTicks(): CpuTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    // idle + iowait
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface PhaseCpu {
  /** CPU seconds this Node process used (user + system). */
  nodeCpuS: number;
  /** CPU seconds the DynamoDB Local JVM this process started used, if it was found. */
  dynamoCpuS: number | undefined;
  /** Cores busy on the whole machine on average (2.0 = both of two cores), if /proc/stat is readable. */
  machineBusyCores: number | undefined;
}

/** Linux USER_HZ: /proc reports process times in hundredths of a second. */
const TICKS_PER_SECOND = 100;

/** The pid of the `java` child this process started (DynamoDB Local), found through /proc. */
export function javaChildPid(): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = statFields(Number(entry));
      if (stat?.ppid === process.pid && stat.comm === 'java') return Number(entry);
    }
  } catch {
    // not Linux: no per-process figures
  }
  return undefined;
}

/** One process's resident memory from /proc/<pid>/status: now (VmRSS) and its high-water mark (VmHWM). */
export interface ProcessMemory {
  pid: number;
  comm: string;
  rssMb: number;
  peakMb: number;
}

export function processMemory(pid: number): ProcessMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { pid, comm: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?', rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    // the process has exited
    return undefined;
  }
}

/**
 * `root` and every process below it (children, grandchildren …), found through the ppid in
 * /proc/<pid>/stat. What a user sees when they run `npm start` is this whole tree, DynamoDB Local's
 * JVM included, not the node process alone.
 */
export function processTree(root: number): ProcessMemory[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = statFields(Number(entry))?.ppid;
    if (ppid !== undefined) parents.set(Number(entry), ppid);
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parents.get(p), hops += 1) if (p === root) return true;
    return false;
  };
  return [...parents.keys()].filter(inTree).flatMap((pid) => processMemory(pid) ?? []);
}

function statFields(pid: number): { comm: string; ppid: number; cpuS: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces; the fields after it are plain.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { comm, ppid: Number(rest[1]), cpuS: (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/**
 * Wall time of an async phase, with the CPU used by this process and by DynamoDB Local, and how busy
 * the whole machine was. On a 2-core machine the JVM and the benchmark share the cores; whatever the
 * machine did beyond the two is other work on the machine, which disturbs the figures.
 */
export async function timePhase<T>(run: () => Promise<T>, jvmPid = javaChildPid()): Promise<{ result: T; seconds: number; cpu: PhaseCpu }> {
  const cores = cpus().length;
  const sysBefore = systemTicks();
  const jvmBefore = jvmPid === undefined ? undefined : statFields(jvmPid)?.cpuS;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = await run();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const jvmAfter = jvmPid === undefined ? undefined : statFields(jvmPid)?.cpuS;
  const sysAfter = systemTicks();
  const machineBusyCores =
    sysBefore !== undefined && sysAfter !== undefined && sysAfter.total > sysBefore.total
      ? ((sysAfter.busy - sysBefore.busy) / (sysAfter.total - sysBefore.total)) * cores
      : undefined;
  return {
    result,
    seconds,
    cpu: {
      nodeCpuS: (cpu.user + cpu.system) / 1e6,
      dynamoCpuS: jvmBefore !== undefined && jvmAfter !== undefined ? jvmAfter - jvmBefore : undefined,
      machineBusyCores,
    },
  };
}

/** "node 0.20 cores, DynamoDB Local 1.70, other 0.05 of 2 busy" */
export function cpuText(cpu: PhaseCpu, seconds: number): string {
  const parts = [`node ${(cpu.nodeCpuS / seconds).toFixed(2)} cores`];
  if (cpu.dynamoCpuS !== undefined) parts.push(`DynamoDB Local ${(cpu.dynamoCpuS / seconds).toFixed(2)}`);
  if (cpu.machineBusyCores !== undefined) {
    if (cpu.dynamoCpuS !== undefined) {
      const other = Math.max(0, cpu.machineBusyCores - (cpu.nodeCpuS + cpu.dynamoCpuS) / seconds);
      parts.push(`other processes ${other.toFixed(2)}`);
    }
    parts.push(`machine ${cpu.machineBusyCores.toFixed(2)}/${cpus().length} busy`);
  }
  return parts.join(', ');
}

/** CPU per item: "node 80 µs + DynamoDB Local 700 µs". */
export function cpuPerItem(cpu: PhaseCpu, items: number): string {
  const us = (s: number) => `${((s * 1e6) / items).toFixed(0)} µs`;
  return cpu.dynamoCpuS === undefined ? `node ${us(cpu.nodeCpuS)}` : `node ${us(cpu.nodeCpuS)} + DynamoDB Local ${us(cpu.dynamoCpuS)}`;
}

export function rate(count: number, seconds: number): string {
  return `${Math.round(count / seconds).toLocaleString('en-US')}/s`;
}

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** A progress line on stderr at most every `everyMs`, so a long load shows it is alive. */
export function progressPrinter(label: string, total: number, everyMs = 5000): (done: number) => void {
  const start = performance.now();
  let last = start;
  return (done) => {
    const now = performance.now();
    if (now - last < everyMs && done < total) return;
    last = now;
    const seconds = (now - start) / 1000;
    const perSecond = done / seconds;
    const eta = perSecond > 0 ? (total - done) / perSecond : 0;
    process.stderr.write(
      `  ${label}: ${int(done)}/${int(total)} (${((done / total) * 100).toFixed(1)}%) ${rate(done, seconds)} elapsed ${seconds.toFixed(0)} s eta ${eta.toFixed(0)} s\n`,
    );
  };
}

/**
 * The block the README quotes: one figure per line, then whether the goal was met
 * (`undefined` when the benchmark has no target and only reports figures).
 */
export function printSummary(title: string, rows: Array<[string, string]>, goal: string, met: boolean | undefined): void {
  const width = Math.max(...rows.map(([label]) => label.length), 'goal met'.length);
  const lines = [
    `==== SUMMARY: ${title} ====`,
    ...rows.map(([label, value]) => `${label.padEnd(width)} : ${value}`),
    `${'goal'.padEnd(width)} : ${goal}`,
    `${'goal met'.padEnd(width)} : ${met === undefined ? 'n/a (no target)' : met ? 'yes' : 'no'}`,
    '='.repeat(title.length + 20),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

export function environmentLine(): string {
  const cpu = cpus();
  return `node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`;
}
