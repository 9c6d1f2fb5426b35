import type { Logger } from "../logger.ts";
import type { ReportError } from "../error-hook.ts";
import type { Store } from "../store/port.ts";
import type { Sessions } from "./sessions.ts";

export interface MaintenanceOptions {
  store: Store;
  sessions: Sessions;
  log: Logger;
  /** Where a failed sweep is reported besides the log (the bot's `onError`). */
  report?: ReportError;
  /** Finished tasks older than this are removed, and feed events older than this, in ms. */
  retentionMs: number;
  /** How often the sweep runs, in ms. Default 10 minutes. */
  everyMs?: number;
}

/**
 * Removes finished tasks past their retention (with their feed events) and feed events past
 * the same retention, and closes idle sessions; returns what it did.
 */
export async function sweep(options: MaintenanceOptions, now = Date.now()): Promise<{ tasksRemoved: number; sessionsClosed: number; eventsRemoved: number }> {
  const { store } = options;
  let tasksRemoved = 0;
  for (;;) {
    const { items } = await store.listTasks({ status: ["completed", "failed", "cancelled"], finishedBefore: now - options.retentionMs }, { limit: 500 });
    if (items.length === 0) break;
    await store.deleteTasks(items.map((task) => task.id));
    tasksRemoved += items.length;
  }
  const eventsRemoved = await store.pruneFeed({ before: now - options.retentionMs });
  const sessionsClosed = await options.sessions.closeIdle(now);
  if (tasksRemoved + sessionsClosed + eventsRemoved > 0) options.log.info({ tasksRemoved, sessionsClosed, eventsRemoved }, "maintenance sweep");
  return { tasksRemoved, sessionsClosed, eventsRemoved };
}

/** Runs `sweep` now and then periodically; returns a function that stops it. */
export function startMaintenance(options: MaintenanceOptions): () => void {
  const run = (): void => {
    sweep(options).catch((error: unknown) => {
      if (options.report) options.report(error, { where: "maintenance" }, "maintenance sweep failed");
      else options.log.error({ err: error }, "maintenance sweep failed");
    });
  };
  run();
  const timer = setInterval(run, options.everyMs ?? 10 * 60 * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
