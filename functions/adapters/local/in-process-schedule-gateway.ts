import type { Clock, ScheduleGateway, ScheduleOnceRequest } from '../../core/ports.js';

/** Node's timers overflow past 2^31-1 ms (about 24.8 days) and would fire at once; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface InProcessScheduleGatewayOptions {
  /** The service clock: `at` is compared with its `now()`, not with the wall clock. */
  clock: Clock;
  /** Runs a due schedule; the payload has been through JSON, as it would be on AWS. */
  run: (payload: unknown, schedule: { name: string; group: string }) => Promise<void> | void;
  /** A failing run is reported here; nothing retries it (Scheduler's retry policy has no local twin). */
  onError: (error: unknown, schedule: { name: string; group: string }) => void;
}

/**
 * The local twin of EventBridge Scheduler's one-off schedules: a timer per schedule inside this process.
 * Same contract as the AWS gateway: idempotent by name, deleted after it runs, cancel of a missing one is fine.
 * Schedules do not survive a restart.
 */
export class InProcessScheduleGateway implements ScheduleGateway {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: InProcessScheduleGatewayOptions) {}

  async scheduleOnce(request: ScheduleOnceRequest): Promise<void> {
    const key = keyOf(request.name, request.group);
    if (this.timers.has(key)) return;
    const payload: unknown = request.payload === undefined ? undefined : JSON.parse(JSON.stringify(request.payload));
    this.arm(key, { name: request.name, group: request.group }, request.at.toMillis(), payload);
  }

  async cancel(name: string, group: string): Promise<void> {
    const key = keyOf(name, group);
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
      Promise.resolve()
        .then(() => this.options.run(payload, schedule))
        .catch((error: unknown) => this.options.onError(error, schedule));
    }, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    this.timers.set(key, timer);
  }
}

function keyOf(name: string, group: string): string {
  return `${group}/${name}`;
}
