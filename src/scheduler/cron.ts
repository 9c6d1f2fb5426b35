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
