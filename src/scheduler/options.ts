import type { Delivery } from "../delivery.ts";
import type { Sessions } from "../engine/sessions.ts";
import type { Logger } from "../logger.ts";
import type { ReportError } from "../error-hook.ts";
import type { Message } from "../model.ts";
import type { Store } from "../store/port.ts";
import type { TaskStarts } from "../engine/task-start.ts";
import type { StoreSignals } from "../store/signals.ts";

export interface SchedulerOptions {
  store: Store;
  delivery: Delivery;
  sessions: Sessions;
  /** The one door tasks start through. */
  starts: TaskStarts;
  log: Logger;
  /** Timezone of schedules that name none (IANA). */
  timezone: string;
  /** Most missed slots fired at start-up under `all` (the latest ones). */
  maxCatchUp: number;
  /** Failures to a gone target (403/404, no adapter) before a schedule is paused. */
  maxFailures: number;
  /** Where failed fires are reported besides the log (the bot's `onError`). */
  report?: ReportError;
  /** Shortest gap between fires of a chat-made schedule that runs a workflow or a prompt, in ms; 0 for none. */
  minWorkIntervalMs?: number;
  /**
   * Writes the message of a schedule with a `prompt` (the assistant); without it such schedules
   * are refused. Throws when there is nothing whole to post: a ChatflowError with code `config`
   * for a failure only a person can fix (it counts towards pausing), anything else leaves the
   * slot pending.
   */
  compose?: (request: { prompt: string; history?: readonly Message[]; signal: AbortSignal }) => Promise<string>;
  /** Why `compose` is missing, said when a prompt schedule is added (what to set). */
  composeMissing?: string;
  /** Messages of history a `withHistory` prompt gets (`history.window`). */
  historyWindow?: number;
  /** A store several processes share: this process's id (slot claims name it) and its wake-ups. */
  shared?: {
    instanceId: string;
    signals?: StoreSignals;
    /** How often schedules are read again in case a signal was missed; default 5 s. */
    reloadMs?: number;
    /** How long a process may take to deliver a text or workflow slot before another takes it over; default 10 s (a prompt's: 120 s). */
    slotLeaseMs?: number;
  };
}
