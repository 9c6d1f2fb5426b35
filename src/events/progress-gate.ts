import type { NewFeedEvent } from "./types.ts";

type ProgressEvent = NewFeedEvent<"progress">;

interface TaskProgress {
  /** When the last progress event of the task went out (epoch ms). */
  lastAt: number;
  /** Its state, to see a change of state. */
  state?: ProgressEvent["data"]["state"];
  /** The newest progress held back, if any. */
  held?: ProgressEvent;
  timer?: NodeJS.Timeout;
  /** Callers of `offer` whose event is held or was superseded by the held one. */
  waiters: Array<() => void>;
}

/**
 * Coalesces progress events per task.
 *
 * Why: progress is last-value. A workflow may report progress many times a second (a loop,
 * a streamed answer); storing each report would fill the feed, and every replay of it, with
 * values nobody needs: a client that reconnects needs where the task is now, not every step
 * it passed. So per task at most one progress event per interval goes out (stored, and so
 * delivered live at that same rate: subscribers only ever see stored events); in between the
 * newest is held back and goes out when the interval is up. A held one always goes out
 * before anything else happens to its task (a question, a result, the end) and before a
 * progress of another state, so the last value before a change is never lost.
 */
export class ProgressGate {
  readonly #tasks = new Map<string, TaskProgress>();

  constructor(
    private readonly intervalMs: number,
    private readonly publish: (event: ProgressEvent) => Promise<void>,
  ) {}

  /** Publishes `event` now, or holds it; resolves once it (or the newer one that replaced it) is published. */
  offer(event: ProgressEvent): Promise<void> {
    let t = this.#tasks.get(event.taskId);
    if (!t) this.#tasks.set(event.taskId, (t = { lastAt: -Infinity, waiters: [] }));
    const now = Date.now();
    const changed = t.state !== undefined && t.state !== event.data.state;
    if (changed) this.#release(t);
    if (changed || (!t.held && now - t.lastAt >= this.intervalMs)) {
      t.lastAt = now;
      t.state = event.data.state;
      return this.publish(event);
    }
    t.held = event;
    if (!t.timer) {
      const task = t;
      t.timer = setTimeout(() => this.#release(task), Math.max(0, t.lastAt + this.intervalMs - now));
      t.timer.unref();
    }
    return new Promise((resolve) => t.waiters.push(resolve));
  }

  /** Publishes the held progress of a task now: call before publishing anything else about it. */
  before(taskId: string): void {
    const t = this.#tasks.get(taskId);
    if (t) this.#release(t);
  }

  /** The task ended: nothing more to hold for it. */
  forget(taskId: string): void {
    const t = this.#tasks.get(taskId);
    if (!t) return;
    this.#release(t);
    this.#tasks.delete(taskId);
  }

  /** Publishes everything held (at shutdown). */
  releaseAll(): void {
    for (const t of this.#tasks.values()) this.#release(t);
    this.#tasks.clear();
  }

  #release(t: TaskProgress): void {
    if (t.timer) clearTimeout(t.timer);
    t.timer = undefined;
    const held = t.held;
    if (!held) return;
    t.held = undefined;
    t.lastAt = Date.now();
    t.state = held.data.state;
    const waiters = t.waiters.splice(0);
    void this.publish(held).then(() => {
      for (const resolve of waiters) resolve();
    });
  }
}
