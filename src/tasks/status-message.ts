import type { Delivery } from "../delivery.ts";
import type { Logger } from "../logger.ts";
import type { Address } from "../model.ts";
import { statusMessage, type StatusView } from "../render/status.ts";
import type { Store } from "../store/port.ts";
import { Coalescer } from "./coalescer.ts";

const OUTBOX_KEY = "status";
const FINAL_KEY = "status-final";
/** How long a process waits for another to record the status message it is posting. */
const POSTED_WAIT_MS = 10_000;

interface Entry {
  coalescer: Coalescer<StatusView>;
  /** The posted message's id; memoized so concurrent updates post it once. */
  messageId?: Promise<string | undefined>;
}

/**
 * The one status message per task: posted once (its id kept in the outbox, so after a
 * restart it is edited, never posted again), then edited at most once per the adapter's
 * `editIntervalMs`, always ending on the final state.
 */
export class StatusMessages {
  readonly #entries = new Map<string, Entry>();
  readonly #store: Store;
  readonly #delivery: Delivery;
  readonly #log: Logger;

  /** With a store several processes share: the one that posts a task's status message is decided in the store. */
  readonly #shared: boolean;

  constructor(store: Store, delivery: Delivery, log: Logger, shared = false) {
    this.#store = store;
    this.#delivery = delivery;
    this.#log = log;
    this.#shared = shared;
  }

  /** Shows `view` (coalesced); resolves when it, or a newer view, is on screen. */
  update(address: Address, view: StatusView): Promise<void> {
    if (!this.#shown(address)) return Promise.resolve();
    return this.#entry(address, view.taskId).coalescer.push(view);
  }

  /** Shows the final state, waits for it to be delivered, and forgets the task. */
  async final(address: Address, view: StatusView): Promise<void> {
    if (!this.#shown(address)) return;
    const entry = this.#entry(address, view.taskId);
    await entry.coalescer.push(view);
    await entry.coalescer.flush();
    this.#entries.delete(view.taskId);
    // Recorded so that a restart can tell whether the final state still has to be shown.
    await this.#store.putOutbox(view.taskId, FINAL_KEY, { messageId: "", platform: address.platform, at: Date.now() });
  }

  /** Whether the final state of a task was shown (see `final`). */
  async shownFinal(taskId: string): Promise<boolean> {
    return (await this.#store.getOutbox(taskId)).has(FINAL_KEY);
  }

  /** Whether the address's channel shows status messages (see AdapterCapabilities.statusMessages). */
  #shown(address: Address): boolean {
    return this.#delivery.capabilities(address.platform).statusMessages !== false;
  }

  /** Drops in-memory state of a task without delivering anything (shutdown). */
  forget(taskId: string): void {
    this.#entries.delete(taskId);
  }

  #entry(address: Address, taskId: string): Entry {
    let entry = this.#entries.get(taskId);
    if (!entry) {
      const interval = this.#delivery.capabilities(address.platform).editIntervalMs;
      const created: Entry = {
        coalescer: new Coalescer(interval, (view) => this.#show(address, created, view)),
      };
      entry = created;
      this.#entries.set(taskId, entry);
    }
    return entry;
  }

  async #show(address: Address, entry: Entry, view: StatusView): Promise<void> {
    try {
      // The coalescer runs one #show at a time per task, so `fresh` belongs to this call.
      let fresh = false;
      entry.messageId ??= this.#post(address, view).then((posted) => {
        fresh = posted?.fresh ?? false;
        return posted?.id;
      });
      const id = await entry.messageId;
      if (id === undefined) {
        entry.messageId = undefined; // posting failed: try again on the next update
        return;
      }
      if (fresh) return;
      const moved = await this.#delivery.edit(address, id, statusMessage(view));
      if (moved) {
        // The platform could not edit it any more and the adapter posted it anew: edit that one from now on.
        entry.messageId = Promise.resolve(moved.id);
        await this.#store.putOutbox(view.taskId, OUTBOX_KEY, { messageId: moved.id, platform: address.platform, at: Date.now() });
      }
    } catch (error) {
      this.#log.warn({ err: error, taskId: view.taskId }, "status message update failed");
    }
  }

  /** Posts the status message unless the outbox says it exists; resolves its id. */
  async #post(address: Address, view: StatusView): Promise<{ id: string; fresh: boolean } | undefined> {
    let existing = (await this.#store.getOutbox(view.taskId)).get(OUTBOX_KEY);
    if (existing && !existing.pending) return { id: existing.messageId, fresh: false };
    // Shared store: the process that acknowledged the task and the one that runs it may both come here at once; one posts, the other edits.
    if (this.#shared && !(await this.#store.claimEvent(`status-post:${view.taskId}`, Date.now() + 7 * 86400_000))) {
      const posted = await this.#postedElsewhere(view.taskId);
      if (posted && !posted.pending) return { id: posted.messageId, fresh: false };
      // Not recorded in time (that process died mid-post): as after a crash, ask the platform, else post.
      existing = posted ?? { messageId: "", pending: true, platform: address.platform, at: Date.now() };
    }
    const key = `${view.taskId}:${OUTBOX_KEY}`;
    try {
      if (existing?.pending) {
        // A crash came between posting and recording: ask the platform before posting again.
        const recalled = await this.#delivery.recall(address, key);
        if (recalled) {
          await this.#store.putOutbox(view.taskId, OUTBOX_KEY, { messageId: recalled.id, platform: address.platform, at: Date.now() });
          return { id: recalled.id, fresh: false };
        }
      } else {
        await this.#store.putOutbox(view.taskId, OUTBOX_KEY, { messageId: "", pending: true, platform: address.platform, at: Date.now() });
      }
      const sent = await this.#delivery.send(address, { ...statusMessage(view), key });
      await this.#store.putOutbox(view.taskId, OUTBOX_KEY, { messageId: sent.id, platform: address.platform, at: Date.now() });
      return { id: sent.id, fresh: true };
    } catch (error) {
      this.#log.warn({ err: error, taskId: view.taskId }, "status message could not be posted");
      return undefined;
    }
  }

  /** Waits (up to POSTED_WAIT_MS) for another process to record the status message it posts. */
  async #postedElsewhere(taskId: string) {
    const until = Date.now() + POSTED_WAIT_MS;
    for (;;) {
      const record = (await this.#store.getOutbox(taskId)).get(OUTBOX_KEY);
      if ((record && !record.pending) || Date.now() >= until) return record;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
