import { DateTime } from 'luxon';
import { ZONE } from '../../core/model.js';
import type { Clock } from '../../core/ports.js';

/**
 * The local service's clock: starts at `startAt` (CERTALARM_NOW) if given, then runs forward in real time,
 * so a demo can begin on any day and still watch reminders go out as the minutes pass.
 */
export function serviceClock(startAt?: DateTime, wallClock: () => number = Date.now): Clock {
  const bootWall = wallClock();
  const offset = startAt === undefined ? 0 : startAt.toMillis() - bootWall;
  return { now: () => DateTime.fromMillis(wallClock() + offset, { zone: ZONE }) };
}
