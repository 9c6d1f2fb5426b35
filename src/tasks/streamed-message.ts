import type { Delivery } from "../delivery.ts";
import type { Logger } from "../logger.ts";
import type { Address } from "../model.ts";
import type { Store } from "../store/port.ts";
import { Coalescer } from "./coalescer.ts";


export interface StreamedMessageOptions {
  store: Store;
  delivery: Delivery;
  log: Logger;
  taskId: string;
  address: Address;
  /** The stream's journal-style key (`stream:answer#0`): its parts are kept in the outbox under it. */
  key: string;
}

/**
 * A message that grows as text arrives (a model's streamed answer): posted with its first
 * text, edited at most once per the adapter's `editIntervalMs` (arrivals in between are
 * coalesced), continued in a next message when it outgrows the adapter's `maxTextLength`, and
 * always ending on the whole text. Each part's message id is kept in the task's outbox, so
 * after a restart the same messages are edited again, never posted twice.
 */
export class StreamedMessage {
  readonly #o: StreamedMessageOptions;
  readonly #coalescer: Coalescer<string>;
  readonly #limit: number;
  #text = "";
  /** What each part shows now, by index; its message id. */
  readonly #parts: Array<{ id: string; shown: string }> = [];

  constructor(options: StreamedMessageOptions) {
    this.#o = options;
    const capabilities = options.delivery.capabilities(options.address.platform);
    this.#limit = Math.max(100, capabilities.maxTextLength);
    this.#coalescer = new Coalescer(capabilities.editIntervalMs, (text) => this.#show(text));
  }

  /** The text so far. */
  get text(): string {
    return this.#text;
  }

  /**
   * Shows the text so far (the whole of it, not a delta), at the adapter's pace. A retried
   * model call may start over with a shorter text: the message follows.
   */
  show(text: string): void {
    if (text === this.#text) return;
    this.#text = text;
    void this.#coalescer.push(text === "" ? "…" : text);
  }

  /**
   * Shows the whole text (`text`, or what was appended) and resolves with the ids of the
   * messages that show it, once they do.
   */
  async finish(text = this.#text): Promise<string[]> {
    this.#text = text;
    await this.#coalescer.push(text === "" ? "…" : text);
    await this.#coalescer.flush();
    return this.#parts.map((part) => part.id);
  }

  async #show(text: string): Promise<void> {
    const pieces = split(text, this.#limit);
    try {
      for (const [index, piece] of pieces.entries()) {
        const part = this.#parts[index] ?? (await this.#existing(index));
        if (!part) {
          this.#parts[index] = { id: await this.#post(index, piece), shown: piece };
          continue;
        }
        this.#parts[index] = part;
        if (part.shown === piece) continue;
        const moved = await this.#o.delivery.edit(this.#o.address, part.id, this.#message(piece));
        part.shown = piece;
        if (moved) {
          part.id = moved.id;
          await this.#record(index, moved.id);
        }
      }
    } catch (error) {
      // The next arrival (or finish) shows the newest text again.
      this.#o.log.warn({ err: error, taskId: this.#o.taskId }, "streamed message update failed");
    }
  }

  /** A part posted before a restart, from the outbox (asking the adapter when the post was in flight). */
  async #existing(index: number): Promise<{ id: string; shown: string } | undefined> {
    const record = (await this.#o.store.getOutbox(this.#o.taskId)).get(this.#outboxKey(index));
    if (record && !record.pending) return { id: record.messageId, shown: "" };
    if (!record?.pending) return undefined;
    const recalled = await this.#o.delivery.recall(this.#o.address, this.#messageKey(index));
    if (!recalled) return undefined;
    await this.#record(index, recalled.id);
    return { id: recalled.id, shown: "" };
  }

  async #post(index: number, piece: string): Promise<string> {
    const { store, taskId, address } = this.#o;
    await store.putOutbox(taskId, this.#outboxKey(index), { messageId: "", pending: true, platform: address.platform, at: Date.now() });
    const sent = await this.#o.delivery.send(address, { ...this.#message(piece), key: this.#messageKey(index) });
    await this.#record(index, sent.id);
    return sent.id;
  }

  #record(index: number, messageId: string): Promise<void> {
    return this.#o.store.putOutbox(this.#o.taskId, this.#outboxKey(index), { messageId, platform: this.#o.address.platform, at: Date.now() });
  }

  #message(text: string) {
    return { kind: "reply" as const, taskId: this.#o.taskId, text };
  }

  #outboxKey(index: number): string {
    return `${this.#o.key}:${index}`;
  }

  #messageKey(index: number): string {
    return `${this.#o.taskId}:${this.#o.key}:${index}`;
  }
}

/** Text cut into pieces of at most `limit` characters, at a line break or a space where possible. */
export function split(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf("\n", limit);
    if (cut < limit / 2) cut = rest.lastIndexOf(" ", limit);
    if (cut < limit / 2) cut = limit;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, "");
  }
  pieces.push(rest);
  return pieces;
}
