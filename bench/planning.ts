/**
 * Planning benchmark: reminder plans per second from the pure core (`planReminders`) with the real
 * catalogue windows and the real working-day calendar, and the memory planning needs.
 *
 *   npx tsx bench/planning.ts                 # 1,000,000 certificates
 *   npx tsx bench/planning.ts --count 100000  # quick check
 *
 * Inputs are made one at a time inside the loop and each plan is dropped after it is counted, so
 * the memory figures are planning's own, not those of a million-element input array.
 */
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { loadReferenceData } from '../functions/app/reference-data.js';
import { settingsFromEnvironment } from '../functions/app/settings.js';
import type { CertificateType, IsoDate, Plan } from '../functions/core/model.js';
import { addDays, planReminders, todayIn } from '../functions/core/planning.js';
import { readFlags } from './lib/flags.js';
import { environmentLine, int, maxRssBytes, mb, MemoryPeaks, printSummary, rate } from './lib/measure.js';

const flags = readFlags('Usage: npx tsx bench/planning.ts [options]', {
  count: { description: 'certificates planned in the measured run', default: 1_000_000 },
  warmup: { description: 'plans made first, unmeasured, so the JIT has compiled the hot path', default: 50_000, min: 0 },
  'per-kind': { description: 'plans per renewal-window kind in the breakdown (0 skips it)', default: 100_000, min: 0 },
});

/** A fixed business clock inside the send window, the same instant the due-scan benchmark uses. */
const NOW = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
/** Expiries from a year ago to five years ahead: late uploads, catch-ups and years the calendar does not cover yet. */
const EXPIRY_DAYS = 6 * 365;

const reference = loadReferenceData();
const settings = settingsFromEnvironment({});
const types = reference.catalogue.all();
const firstExpiry = addDays(todayIn(NOW), -365);
// 2,190 date strings, not one per certificate: the input of certificate i is built from i.
const expiries: IsoDate[] = Array.from({ length: EXPIRY_DAYS }, (_, d) => addDays(firstExpiry, d));

interface Tally {
  plans: number;
  stages: number;
  pending: number;
  catchUps: number;
  provisional: number;
}

function planMany(count: number, typesToUse: readonly CertificateType[], memory?: MemoryPeaks): Tally {
  const tally: Tally = { plans: 0, stages: 0, pending: 0, catchUps: 0, provisional: 0 };
  for (let i = 0; i < count; i += 1) {
    const type = typesToUse[i % typesToUse.length]!;
    // A multiplicative step spreads neighbouring certificates over the whole expiry range.
    const plan: Plan = planReminders({
      expiresOn: expiries[(i * 7919) % EXPIRY_DAYS]!,
      renewalWindow: type.renewalWindow,
      calendar: reference.calendar,
      policy: settings.stagePolicy,
      sendWindow: settings.sendWindow,
      now: NOW,
    });
    // Reading every result keeps the work observable, so nothing can be optimised away.
    tally.plans += 1;
    tally.stages += plan.stages.length;
    if (plan.calendarProvisional) tally.provisional += 1;
    for (const stage of plan.stages) {
      if (stage.status === 'pending') tally.pending += 1;
      if (stage.note === 'catchUp') tally.catchUps += 1;
    }
    if (memory !== undefined && i % 10_000 === 0) memory.sample();
  }
  return tally;
}

function windowKind(type: CertificateType): string {
  const w = type.renewalWindow;
  if (w === null) return 'no window';
  if ('beforeDeadline' in w) return 'start deadline';
  if (w.semantics === 'between') return 'between (working days)';
  const unit = 'days' in w ? 'days' : 'months' in w ? 'months' : 'working days';
  return `${w.semantics} ${unit}`;
}

process.stdout.write(`planning benchmark — ${environmentLine()}\n`);
process.stdout.write(`${int(types.length)} certificate types, calendar years ${reference.calendar.coveredYears().at(0) ?? '?'}–${reference.calendar.coveredYears().at(-1) ?? '?'}, now ${NOW.toISO() ?? ''}\n`);

if (flags.warmup > 0) planMany(flags.warmup, types);
globalThis.gc?.();
const baseline = process.memoryUsage();
const memory = new MemoryPeaks();
const start = performance.now();
const tally = planMany(flags.count, types, memory);
const seconds = (performance.now() - start) / 1000;
memory.stop();

process.stdout.write(
  `planned ${int(tally.plans)} certificates in ${seconds.toFixed(2)} s: ${rate(tally.plans, seconds)}, ` +
    `${((seconds * 1e6) / tally.plans).toFixed(2)} µs per plan\n` +
    `  stages ${int(tally.stages)}, pending ${int(tally.pending)}, catch-ups ${int(tally.catchUps)}, provisional calendar ${int(tally.provisional)}\n` +
    `  memory: rss before ${mb(baseline.rss)}, peak rss ${mb(memory.peakRss)}, heap used before ${mb(baseline.heapUsed)}, peak heap used ${mb(memory.peakHeapUsed)}, maxRSS ${mb(maxRssBytes())}\n`,
);

const kindRows: Array<[string, string]> = [];
if (flags['per-kind'] > 0) {
  const kinds = new Map<string, CertificateType[]>();
  for (const type of types) {
    const kind = windowKind(type);
    kinds.set(kind, [...(kinds.get(kind) ?? []), type]);
  }
  process.stdout.write(`by renewal-window kind (${int(flags['per-kind'])} plans each):\n`);
  for (const [kind, ofKind] of kinds) {
    const t0 = performance.now();
    planMany(flags['per-kind'], ofKind);
    const s = (performance.now() - t0) / 1000;
    const line = `${rate(flags['per-kind'], s)} (${((s * 1e6) / flags['per-kind']).toFixed(2)} µs/plan, ${ofKind.length} ${ofKind.length === 1 ? 'type' : 'types'})`;
    process.stdout.write(`  ${kind.padEnd(28)} ${line}\n`);
    kindRows.push([`  ${kind}`, line]);
  }
}

printSummary(
  `planning, ${int(flags.count)} certificates`,
  [
    ['plans/s', rate(tally.plans, seconds)],
    ['elapsed', `${seconds.toFixed(2)} s (after ${int(flags.warmup)} warm-up plans)`],
    ['µs per plan', ((seconds * 1e6) / tally.plans).toFixed(2)],
    ['peak RSS (sampled)', mb(memory.peakRss)],
    ['peak heap used', mb(memory.peakHeapUsed)],
    ['maxRSS (getrusage)', mb(maxRssBytes())],
    ['heap used before', mb(baseline.heapUsed)],
    ...kindRows,
  ],
  'none set: figures reported for the README',
  undefined,
);
