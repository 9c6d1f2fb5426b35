import type { Adapter, AdapterCapabilities, NoticeOptions } from "./port/adapter.ts";
import { ChatflowError, RateLimitError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { Address, InboundEvent, OutboundMessage, SentMessage } from "./model.ts";
import type { EngineStats } from "./stats.ts";

const FALLBACK_CAPABILITIES: AdapterCapabilities = { editIntervalMs: 1000, maxTextLength: 4000, persistentMessages: true };

/** Routes outbound messages to the adapter of the address's platform. */
export class Delivery {
  readonly #adapters = new Map<string, Adapter>();
  readonly #log: Logger;
  readonly #stats: EngineStats | undefined;

  constructor(adapters: Adapter[], log: Logger, stats?: EngineStats) {
    for (const adapter of adapters) this.#adapters.set(adapter.platform, adapter);
    this.#log = log;
    this.#stats = stats;
  }

  /** Counts an adapter call and its failure (a 429 apart) for the metrics. */
  async #counted<T>(platform: string, method: string, call: () => Promise<T>): Promise<T> {
    const stats = this.#stats;
    if (!stats) return call();
    stats.adapterCalls.inc({ platform, method });
    try {
      return await call();
    } catch (error) {
      stats.adapterErrors.inc({ platform, method });
      if (error instanceof RateLimitError) stats.rateLimited.inc({ platform });
      throw error;
    }
  }

  get adapters(): Adapter[] {
    return [...this.#adapters.values()];
  }

  capabilities(platform: string): AdapterCapabilities {
    return this.#adapters.get(platform)?.capabilities ?? FALLBACK_CAPABILITIES;
  }

  #adapter(platform: string): Adapter {
    const adapter = this.#adapters.get(platform);
    if (!adapter) throw new ChatflowError("not_found", `No adapter is configured for platform "${platform}".`);
    return adapter;
  }

  send(address: Address, message: OutboundMessage): Promise<SentMessage> {
    const adapter = this.#adapter(address.platform);
    return this.#counted(address.platform, "send", () => adapter.send(address, message));
  }

  /**
   * Edits a message; adapters without `edit` get the new state as a new message. Resolves
   * with the message's new id when the adapter had to post it anew (see `Adapter.edit`).
   */
  async edit(address: Address, messageId: string, message: OutboundMessage): Promise<SentMessage | undefined> {
    const adapter = this.#adapter(address.platform);
    if (!adapter.edit) {
      await this.#counted(address.platform, "send", () => adapter.send(address, message));
      return undefined;
    }
    const moved = await this.#counted(address.platform, "edit", () => adapter.edit!(address, messageId, message));
    return moved && moved.id !== messageId ? moved : undefined;
  }

  /** A message posted earlier with this idempotency key, where the adapter can tell. */
  async recall(address: Address, key: string): Promise<SentMessage | undefined> {
    const adapter = this.#adapters.get(address.platform);
    if (!adapter?.recall) return undefined;
    return this.#counted(address.platform, "recall", () => adapter.recall!(address, key));
  }

  /** Best effort: a failed typing indicator is logged, never thrown. */
  async typing(address: Address): Promise<void> {
    try {
      await this.#adapters.get(address.platform)?.typing?.(address);
    } catch (error) {
      this.#log.debug({ err: error, platform: address.platform }, "typing indicator failed");
    }
  }

  /**
   * A notice only the person behind `event` sees (a refusal, an expired button), through the
   * adapter's `notify`; where it has none, or this event can't carry one, a reply in the chat.
   * Never throws.
   */
  async notice(event: InboundEvent, text: string, options: NoticeOptions = {}): Promise<void> {
    const adapter = this.#adapters.get(event.address.platform);
    try {
      if (adapter?.notify && (await this.#counted(event.address.platform, "notify", () => adapter.notify!(event, text, options)))) return;
    } catch (error) {
      this.#log.debug({ err: error, platform: event.address.platform }, "private notice failed; replying in the chat");
    }
    this.post(event.address, { kind: "reply", text });
  }

  /**
   * Sends without waiting, logging a failure: replies must not hold up an adapter's update
   * loop (a throttled chat would delay every other chat). Calls are issued in order, so an
   * adapter's per-chat queue keeps them in order.
   */
  post(address: Address, message: OutboundMessage): void {
    void this.reply(address, message);
  }

  /** Sends, logging instead of throwing: for replies whose loss must not break the caller. */
  async reply(address: Address, message: OutboundMessage): Promise<SentMessage | undefined> {
    try {
      return await this.send(address, message);
    } catch (error) {
      this.#log.warn({ err: error, platform: address.platform, kind: message.kind }, "reply could not be delivered");
      return undefined;
    }
  }
}
