/**
 * What a runner finds at start-up with a store it holds alone (lowdb): the tasks still active,
 * which of them hold their sessions' lanes and which must run now; and, with any store, the
 * finished tasks whose final status a crash kept from being shown.
 */
import type { Logger } from "../logger.ts";
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

/** Which tasks a sweep looks at: those finished (or parked) in `[since, until)`. */
export interface SweepWindow {
  since: number;
  until?: number;
  /** With a shared store: one process does each (a key claimed in the store). */
  claim?: (key: string) => Promise<boolean>;
}

/**
 * Shows the final status of tasks that finished in the window whose final state was never
 * shown: the process that finished them died (or stopped) between storing the end and
 * showing it. Resolves how many it showed.
 */
export async function showMissedFinals(store: Store, status: StatusMessages, view: (task: Task, state: StatusView["state"]) => StatusView, window: SweepWindow): Promise<number> {
  let shown = 0;
  let cursor: string | undefined;
  const filter = { status: ["completed", "failed", "cancelled"] as Task["status"][], finishedAfter: window.since, ...(window.until !== undefined ? { finishedBefore: window.until } : {}) };
  do {
    const page = await store.listTasks(filter, { limit: 500, ...(cursor ? { cursor } : {}) });
    for (const task of page.items) {
      if (await status.shownFinal(task.id)) continue;
      if (window.claim && !(await window.claim(`final-show:${task.id}`))) continue;
      const state = task.status === "completed" ? "completed" : task.status === "failed" ? "failed" : "cancelled";
      void status.final(task.address, view(task, state));
      shown++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return shown;
}

/**
 * With a shared store: waiting tasks whose question was never posted (the process that parked
 * the task died, or its post failed, before the post was recorded) get it posted by one of the
 * processes, once `graceMs` after it was asked (the parking process posts it itself meanwhile).
 * Only tasks parked (last changed) since `since` are looked at; `claim` makes one process do
 * each per minute.
 */
export async function postMissedQuestions(
  store: Store,
  post: (task: Task) => Promise<void>,
  claim: (key: string) => Promise<boolean>,
  now: number,
  graceMs: number,
  since: number,
): Promise<number> {
  let posted = 0;
  let cursor: string | undefined;
  do {
    const page = await store.listTasks({ status: "waiting", updatedAfter: since }, { limit: 500, ...(cursor ? { cursor } : {}) });
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

const DAY_MS = 24 * 3600_000;

export interface MissedSweepOptions {
  store: Store;
  /** How long the process that parked or finished a task has to post it itself. */
  graceMs: number;
  postQuestion: (task: Task) => Promise<void>;
  showFinals: (window: SweepWindow) => Promise<number>;
  log: Logger;
}

/**
 * With a shared store, what a process that died could not post: questions of tasks it parked,
 * final statuses of tasks it finished. One sweep at once (the last day), then every half grace,
 * each over the tasks parked or finished since a little before the previous one, so nothing
 * is read twice over and a busy store is not scanned whole. Returns the function that stops it.
 */
export function startMissedSweep(o: MissedSweepOptions): () => void {
  const every = Math.max(1000, o.graceMs / 2);
  let since = Date.now() - DAY_MS;
  let running = false;
  const claim = (ttlMs: number) => (key: string) => o.store.claimEvent(key, Date.now() + ttlMs);
  const sweep = async () => {
    if (running) return;
    running = true;
    const now = Date.now();
    try {
      await postMissedQuestions(o.store, o.postQuestion, claim(120_000), now, o.graceMs, since);
      await o.showFinals({ since, until: now - o.graceMs, claim: claim(10 * 60_000) });
      // The next window overlaps this one by two sweeps: a late commit is still seen.
      since = now - o.graceMs - 2 * every;
    } catch (error) {
      o.log.warn({ err: error }, "missed questions and final statuses not checked");
    } finally {
      running = false;
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), every);
  timer.unref();
  return () => clearInterval(timer);
}
