import type { Clock } from '../../core/ports.js';

/**
 * Runs a job on every multiple of `everyMinutes` of the service clock (e.g. :00, :15, :30, :45),
 * never two at once. The local stand-in for the EventBridge Scheduler's recurring scan.
 */
export function startLocalScheduler(options: {
  clock: Clock;
  everyMinutes: number;
  job: () => Promise<void>;
  onError: (error: unknown) => void;
  runAtStart?: boolean;
}): { stop(): void } {
  const periodMs = options.everyMinutes * 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await options.job();
    } catch (error) {
      options.onError(error);
    } finally {
      running = false;
    }
  };
  const scheduleNext = () => {
    if (stopped) return;
    const now = options.clock.now().toMillis();
    const wait = periodMs - (now % periodMs) + 50;
    timer = setTimeout(() => {
      void run().finally(scheduleNext);
    }, wait);
    timer.unref();
  };
  if (options.runAtStart === true) void run();
  scheduleNext();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
