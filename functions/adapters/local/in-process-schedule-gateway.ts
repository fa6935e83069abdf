import { DateTime } from 'luxon';
import type { Clock, JobStore, ScheduleGateway, ScheduleOnceRequest } from '../../core/ports.js';

/** Node's timers overflow past 2^31-1 ms (about 24.8 days) and would fire at once; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface InProcessScheduleGatewayOptions {
  /** The service clock: `at` is compared with its `now()`, not with the wall clock. */
  clock: Clock;
  /**
   * Runs a due schedule; the payload has been through JSON, as it would be on AWS. Answering `false`
   * keeps a stored job for a later run (the due scan's), as a failure does.
   */
  run: (payload: unknown, schedule: { name: string; group: string }) => Promise<void | boolean> | void | boolean;
  /** A failing run is reported here; nothing retries it (Scheduler's retry policy has no local twin). */
  onError: (error: unknown, schedule: { name: string; group: string }) => void;
  /**
   * Where schedules are kept so that a restart does not lose them (`restore` re-arms them); a job is
   * removed once it has run. Without it, schedules live only in this process.
   */
  jobs?: JobStore;
}

/**
 * The local twin of EventBridge Scheduler's one-off schedules: a timer per schedule inside this process.
 * Same contract as the AWS gateway: idempotent by name, deleted after it runs, cancel of a missing one is fine.
 * With a job store, schedules survive a restart: each is stored before its timer is armed, and
 * `restore` arms every stored one again (one whose instant passed while the service was down runs at once).
 */
export class InProcessScheduleGateway implements ScheduleGateway {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: InProcessScheduleGatewayOptions) {}

  async scheduleOnce(request: ScheduleOnceRequest): Promise<void> {
    const key = keyOf(request.name, request.group);
    if (this.timers.has(key)) return;
    if (this.options.jobs !== undefined && (await this.options.jobs.pendingJobs()).some((j) => j.name === request.name && j.group === request.group)) return;
    await this.store(request);
  }

  async reschedule(request: ScheduleOnceRequest): Promise<void> {
    this.disarm(keyOf(request.name, request.group));
    await this.store(request);
  }

  async cancel(name: string, group: string): Promise<void> {
    this.disarm(keyOf(name, group));
    await this.options.jobs?.deleteJob(name, group);
  }

  /** Arms every stored schedule (service start); returns how many. */
  async restore(): Promise<number> {
    if (this.options.jobs === undefined) return 0;
    const jobs = await this.options.jobs.pendingJobs();
    for (const job of jobs) {
      const key = keyOf(job.name, job.group);
      if (!this.timers.has(key)) this.arm(key, { name: job.name, group: job.group }, DateTime.fromISO(job.at).toMillis(), job.payload);
    }
    return jobs.length;
  }

  private async store(request: ScheduleOnceRequest): Promise<void> {
    const payload: unknown = request.payload === undefined ? undefined : JSON.parse(JSON.stringify(request.payload));
    await this.options.jobs?.putJob({ name: request.name, group: request.group, at: request.at.toUTC().toISO() ?? '', payload });
    this.arm(keyOf(request.name, request.group), { name: request.name, group: request.group }, request.at.toMillis(), payload);
  }

  private disarm(key: string): void {
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** Names of the schedules still waiting, as `group/name`. */
  pending(): string[] {
    return [...this.timers.keys()];
  }

  /** Cancel everything (service shutdown). */
  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(key: string, schedule: { name: string; group: string }, atMs: number, payload: unknown): void {
    const wait = Math.max(0, atMs - this.options.clock.now().toMillis());
    const timer = setTimeout(() => {
      if (wait > MAX_TIMER_MS) {
        this.arm(key, schedule, atMs, payload);
        return;
      }
      this.timers.delete(key);
      // Removed only after a run that did not throw: a failed run stays stored and is re-armed at the next start.
      Promise.resolve()
        .then(() => this.options.run(payload, schedule))
        .then((done) => (done === false ? undefined : this.options.jobs?.deleteJob(schedule.name, schedule.group, new Date(atMs).toISOString())))
        .catch((error: unknown) => this.options.onError(error, schedule));
    }, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    this.timers.set(key, timer);
  }
}

function keyOf(name: string, group: string): string {
  return `${group}/${name}`;
}
