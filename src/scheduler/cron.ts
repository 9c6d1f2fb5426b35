import { Cron } from "croner";
import { ChatflowError } from "../errors.ts";

/** Bad input for a schedule: the message says what is wrong, for a reply to the person. */
export class ScheduleInputError extends ChatflowError {
  constructor(message: string) {
    super("validation", message);
  }
}

/** Throws ScheduleInputError unless `timezone` is an IANA name this runtime knows. */
export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    throw new ScheduleInputError(`Unknown timezone "${timezone}": use an IANA name such as Europe/Berlin or America/New_York.`);
  }
}

/** A croner pattern that is never started: only computes slots. */
export function cronPattern(expression: string, timezone: string): Cron {
  checkTimezone(timezone);
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true });
  } catch (error) {
    const detail = (error as Error).message.replace(/^CronPattern: /, "");
    throw new ScheduleInputError(`Invalid cron expression "${expression}": ${detail}. Use 5 fields (minute hour day month weekday), e.g. "0 9 * * 1-5".`);
  }
  if (cron.nextRun() === null) throw new ScheduleInputError(`The cron expression "${expression}" never fires.`);
  return cron;
}

/** Slots (epoch ms) in `(after, until]`, oldest first, at most `max` (the latest ones are kept). */
export function slotsBetween(cron: Cron, after: number, until: number, max = Number.POSITIVE_INFINITY): { slots: number[]; dropped: number } {
  const slots: number[] = [];
  let dropped = 0;
  let cursor: Date | null = new Date(after);
  for (;;) {
    cursor = cron.nextRun(cursor);
    if (!cursor || cursor.getTime() > until) break;
    slots.push(cursor.getTime());
    if (slots.length > max) {
      slots.shift();
      dropped++;
    }
  }
  return { slots, dropped };
}

/** Fires looked at to find a pattern's shortest gap: enough to meet every field's step at least once. */
const GAP_SAMPLE = 400;

/**
 * The shortest time between two fires among the next ones, in ms (null when it fires at most
 * once). A sample, not a proof: a pattern's gaps repeat within its hour/day/month cycle, which
 * the next few hundred fires cover for any pattern that fires often enough to matter.
 */
export function shortestGap(cron: Cron): number | null {
  const runs = cron.nextRuns(GAP_SAMPLE);
  let shortest: number | null = null;
  for (let i = 1; i < runs.length; i++) {
    const gap = runs[i]!.getTime() - runs[i - 1]!.getTime();
    if (shortest === null || gap < shortest) shortest = gap;
  }
  return shortest;
}

/** A duration in ms for people: `1 s`, `45 s`, `5 min`, `90 min`. */
export function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 120 || seconds % 60 !== 0 ? `${seconds} s` : `${seconds / 60} min`;
}
