import type { Delivery } from "../delivery.ts";
import type { Logger } from "../logger.ts";
import type { Message } from "../model.ts";
import { appendMessageOnce } from "../store/append-once.ts";
import type { Store } from "../store/port.ts";
import type { Task, TaskResult } from "../store/records.ts";
import { questionMessage } from "./actions.ts";

/**
 * What a task posts in its chat besides its status message: its questions and its result,
 * each posted once (its id kept in the task's outbox) and entered in the session's history once.
 */
export class TaskPosts {
  readonly #store: Store;
  readonly #delivery: Delivery;
  readonly #log: Logger;

  constructor(store: Store, delivery: Delivery, log: Logger) {
    this.#store = store;
    this.#delivery = delivery;
    this.#log = log;
  }

  /**
   * Posts the pending question of a task; `again` re-posts it (e.g. the console after a restart)
   * even when the outbox says it was posted. A failure is logged: the next start posts it.
   */
  /** Question posts in flight, so an answer can wait for the question's message id. */
  readonly #posting = new Map<string, Promise<void>>();

  /** Like `question`, remembered while in flight (see `questionPosted`). */
  async questionTracked(task: Task): Promise<void> {
    const posting = this.question(task, false);
    this.#posting.set(task.id, posting);
    try {
      await posting;
    } finally {
      if (this.#posting.get(task.id) === posting) this.#posting.delete(task.id);
    }
  }

  /** Resolves once the question of a task being posted by this process is posted (and its id recorded). */
  async questionPosted(taskId: string): Promise<void> {
    await this.#posting.get(taskId);
  }

  async question(task: Task, again: boolean): Promise<void> {
    const wait = task.waiting;
    if (!wait) return;
    const outboxKey = `${wait.key}:${wait.token}`;
    const posted = (await this.#store.getOutbox(task.id)).get(outboxKey);
    if (posted && !again) return;
    try {
      const sent = await this.#delivery.send(task.address, questionMessage(task, wait));
      if (!posted) {
        await this.#store.putOutbox(task.id, outboxKey, { messageId: sent.id, platform: task.address.platform, at: Date.now() });
        await this.#record(task, `${task.id}.${wait.key}`, wait.question, sent.id);
      }
    } catch (error) {
      this.#log.warn({ err: error, taskId: task.id }, "question could not be posted; it is posted again at the next start");
    }
  }

  /**
   * Posts a task's result, unless the outbox has it or the workflow showed it already (a
   * streamed answer, `shownIn`), and enters it in history; resolves with the result as stored.
   * The post is marked pending in the outbox first and sent with a key: a run that takes over
   * after a crash between the two asks the platform (`recall`) before posting again. `fence`
   * is awaited just before sending (a run that lost its task to another process stops there).
   */
  async result(task: Task, result: TaskResult, fence?: () => Promise<void>): Promise<TaskResult> {
    const clean: TaskResult = { text: String(result?.text ?? ""), ...(result?.links?.length ? { links: result.links } : {}) };
    const shownIn = (result as { shownIn?: unknown } | undefined)?.shownIn;
    const recorded = (await this.#store.getOutbox(task.id)).get("result");
    let messageId = (recorded && !recorded.pending ? recorded.messageId : undefined) ?? (Array.isArray(shownIn) && shownIn.length > 0 ? String(shownIn.at(-1)) : undefined);
    if (!messageId) {
      const key = `${task.id}:result`;
      const recalled = recorded?.pending ? await this.#delivery.recall(task.address, key) : undefined;
      if (!recorded) await this.#store.putOutbox(task.id, "result", { messageId: "", pending: true, platform: task.address.platform, at: Date.now() });
      await fence?.();
      const sent = recalled ?? (await this.#delivery.send(task.address, { kind: "result", taskId: task.id, text: clean.text, key, ...(clean.links ? { links: clean.links } : {}) }));
      messageId = sent.id;
      await this.#store.putOutbox(task.id, "result", { messageId, platform: task.address.platform, at: Date.now() });
    }
    await this.#record(task, `${task.id}.result`, clean.text, messageId, clean.links);
    return clean;
  }

  /** Appends an assistant message to history once (the id is deterministic, checked against the tail). */
  async #record(task: Task, id: string, text: string, platformMessageId?: string, links?: Message["links"]): Promise<void> {
    await appendMessageOnce(this.#store, {
      id,
      sessionId: task.sessionId,
      role: "assistant",
      source: task.source ?? "workflow",
      text,
      taskId: task.id,
      at: Date.now(),
      ...(platformMessageId ? { platformMessageId } : {}),
      ...(links && links.length > 0 ? { links } : {}),
    });
  }
}
