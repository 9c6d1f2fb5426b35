import { TaskCancelledError } from "../errors.ts";
import type { Store } from "../store/port.ts";
import { isFinished, type Task, type TaskStatus } from "../store/records.ts";
import type { StoreSignals } from "../store/signals.ts";

/** How long `cancel` waits for a running task to unwind before answering. */
export const CANCEL_WAIT_MS = 2000;

export interface CancelDeps {
  store: Store;
  /** This process, as lease owner. */
  owner: string;
  /** With a shared store: its signals (the process running the task hears the cancel). */
  shared?: { signals?: StoreSignals };
  /** The run of a task in this process, if it runs here. */
  running(taskId: string): { controller: AbortController; done: Promise<void> } | undefined;
  /** Ends a task that runs nowhere, if its rev is still `ifRev`. */
  finish(task: Task, status: TaskStatus, ifRev: number): Promise<Task | undefined>;
}

/**
 * Cancels a task wherever it is: queued and waiting tasks end at once; a task running here is
 * aborted (and waited for, up to CANCEL_WAIT_MS); a task running in another process sharing
 * the store is flagged and signalled, and stops at its next step there. Resolves the task as
 * it then is (`cancelRequested` when it is still unwinding).
 */
export async function cancelTask(deps: CancelDeps, taskId: string): Promise<Task | undefined> {
  const { store } = deps;
  for (;;) {
    const task = await store.getTask(taskId);
    if (!task || isFinished(task.status)) return task;
    const run = deps.running(taskId);
    if (!run && deps.shared && task.status === "running" && task.lease && task.lease.owner !== deps.owner) {
      // Running in another process: it hears the signal (or sees the flag when the task is next claimed).
      const requested = await store.updateTask(taskId, { cancelRequested: true });
      void deps.shared.signals?.signal("cancel", taskId);
      return (await waitFinished(store, taskId)) ?? requested;
    }
    if (run) {
      const updated = await store.updateTask(taskId, { cancelRequested: true });
      run.controller.abort(new TaskCancelledError());
      // Bounded: a step that ignores its signal must not hold up the caller (an adapter's update loop).
      const unwound = await Promise.race([run.done.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CANCEL_WAIT_MS).unref())]);
      const now = await store.getTask(taskId);
      // The run was already parking when the abort came: it stopped without ending the task, so end it now.
      if (unwound && now && !isFinished(now.status) && !deps.running(taskId)) continue;
      return now ?? updated;
    }
    // Not running: end it now, unless it changed under us (then look again).
    const ended = await deps.finish(task, "cancelled", task.rev);
    if (ended) return ended;
  }
}

/** Polls until the task ends or CANCEL_WAIT_MS pass; the task as last read. */
async function waitFinished(store: Store, taskId: string): Promise<Task | undefined> {
  const until = Date.now() + CANCEL_WAIT_MS;
  for (;;) {
    const task = await store.getTask(taskId);
    if (!task || isFinished(task.status) || Date.now() >= until) return task;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
