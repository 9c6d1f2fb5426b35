/**
 * What a runner finds at start-up with a store it holds alone (lowdb): the tasks still active,
 * which of them hold their sessions' lanes and which must run now; and, with any store, the
 * finished tasks whose final status a crash kept from being shown.
 */
import type { StatusView } from "../render/status.ts";
import type { Store } from "../store/port.ts";
import { ACTIVE_STATUSES, type Task } from "../store/records.ts";
import type { SessionLanes } from "./lanes.ts";
import type { StatusMessages } from "./status-message.ts";

/** Every queued, running or waiting task: oldest first, tasks that already started before queued ones. */
export async function activeTasks(store: Store): Promise<Task[]> {
  const active: Task[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listTasks({ status: [...ACTIVE_STATUSES] }, { limit: 1000, ...(cursor ? { cursor } : {}) });
    active.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return active.sort((a, b) => Number(b.startedAt !== undefined) - Number(a.startedAt !== undefined) || a.createdAt - b.createdAt);
}

/**
 * Fills the lanes: a task that started holds its session; running tasks whose lease expired
 * (with an exclusive store, every one: their process is gone) and the first queued task of a
 * free lane are to run now; waiting tasks wait on.
 */
export function planLanes(active: Task[], lanes: SessionLanes, exclusive: boolean, now: number): { run: string[]; waiting: Task[] } {
  const run: string[] = [];
  const waiting: Task[] = [];
  for (const task of active) {
    if (lanes.holder(task.sessionId) === undefined && task.status !== "queued") {
      lanes.hold(task.sessionId, task.id);
      if (task.status === "waiting") waiting.push(task);
      else if (exclusive || !task.lease || task.lease.until < now) run.push(task.id);
      continue;
    }
    const next = lanes.enqueue(task.sessionId, task.id);
    if (next) run.push(next);
  }
  return { run, waiting };
}

/** Shows the final status of tasks finished in the last day whose final state was never shown (a crash came between). */
export async function showMissedFinals(store: Store, status: StatusMessages, view: (task: Task, state: StatusView["state"]) => StatusView, now: number): Promise<void> {
  const recent = now - 24 * 3600_000;
  let cursor: string | undefined;
  do {
    const page = await store.listTasks({ status: ["completed", "failed", "cancelled"] }, { limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const task of page.items) {
      if ((task.finishedAt ?? 0) < recent || (await status.shownFinal(task.id))) continue;
      const state = task.status === "completed" ? "completed" : task.status === "failed" ? "failed" : "cancelled";
      void status.final(task.address, view(task, state));
    }
    cursor = page.nextCursor;
  } while (cursor);
}

/**
 * With a shared store: waiting tasks whose question was never posted (the process that parked
 * the task died, or its post failed, before the post was recorded) get it posted by one of the
 * processes, once `graceMs` after it was asked (the parking process posts it itself meanwhile).
 * `claim` makes one process do it per minute.
 */
export async function postMissedQuestions(
  store: Store,
  post: (task: Task) => Promise<void>,
  claim: (key: string) => Promise<boolean>,
  now: number,
  graceMs: number,
): Promise<number> {
  let posted = 0;
  let cursor: string | undefined;
  do {
    const page = await store.listTasks({ status: "waiting" }, { limit: 500, ...(cursor ? { cursor } : {}) });
    for (const task of page.items) {
      const wait = task.waiting;
      if (!wait || now - wait.askedAt < graceMs || now - wait.askedAt > 24 * 3600_000) continue;
      if ((await store.getOutbox(task.id)).has(`${wait.key}:${wait.token}`)) continue;
      if (!(await claim(`question-post:${task.id}:${wait.token}:${Math.floor(now / 60_000)}`))) continue;
      await post(task);
      posted++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return posted;
}
