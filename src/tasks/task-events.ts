import type { EventFeed } from "../events/feed.ts";
import type { NewFeedEvent } from "../events/types.ts";
import type { PendingWait, Task, TaskResult } from "../store/records.ts";

/**
 * The feed events of tasks as the runner publishes them, each once the state it tells of is
 * stored; publishing never waits for the feed (nor fails the run).
 */
export class TaskEvents {
  readonly #feed: EventFeed | undefined;
  /** Who asked to cancel a task, for its `cancelled` event. */
  readonly #cancelledBy = new Map<string, string>();

  constructor(feed: EventFeed | undefined) {
    this.#feed = feed;
  }

  emit(event: NewFeedEvent): void {
    void this.#feed?.publish(event);
  }

  /** A task's first run began. */
  started(task: Task): void {
    this.emit({ type: "start", sessionId: task.sessionId, taskId: task.id, data: { workflow: task.workflow } });
  }

  /** Where a task is (built now, to be published once the progress is stored). */
  progress(task: Task, state: "running" | "waiting"): NewFeedEvent<"progress"> {
    return { type: "progress", sessionId: task.sessionId, taskId: task.id, data: { percent: task.percent, ...(task.step ? { step: task.step } : {}), state } };
  }

  /** A task parked on a question or a review. */
  parked(task: Task, wait: PendingWait): void {
    this.emit(this.progress(task, "waiting"));
    const about = { sessionId: task.sessionId, taskId: task.id };
    if (wait.kind === "ask") {
      this.emit({ type: "question", ...about, data: { question: wait.question, ...(wait.choices ? { choices: wait.choices } : {}), expectsText: !wait.choices } });
    } else {
      this.emit({ type: "review", ...about, data: { question: wait.question, ...(wait.data !== undefined ? { data: wait.data } : {}), ...(wait.label ? { label: wait.label } : {}) } });
    }
  }

  /** Remembers who cancels a task until it ends (undefined: forget, the task had ended). */
  cancelledBy(taskId: string, by: string | undefined): void {
    if (by === undefined) this.#cancelledBy.delete(taskId);
    else this.#cancelledBy.set(taskId, by);
  }

  /** The events of a task's end, once its final state is stored: result, error or cancelled, then end. */
  ended(ended: Task, outcome: { result?: TaskResult; error?: string }): void {
    const about = { sessionId: ended.sessionId, taskId: ended.id };
    const by = this.#cancelledBy.get(ended.id);
    this.#cancelledBy.delete(ended.id);
    if (ended.status === "completed") {
      const result = outcome.result ?? ended.result ?? { text: "" };
      this.emit({ type: "result", ...about, data: { text: result.text, ...(result.links?.length ? { links: result.links } : {}) } });
    } else if (ended.status === "failed") {
      this.emit({ type: "error", ...about, data: { message: outcome.error ?? ended.error ?? "unknown error" } });
    } else if (ended.status === "cancelled") {
      this.emit({ type: "cancelled", ...about, data: by !== undefined ? { by } : {} });
    }
    this.emit({ type: "end", ...about, data: { status: ended.status as "completed" | "failed" | "cancelled" } });
  }
}
