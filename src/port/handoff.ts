import type { Logger } from "../logger.ts";
import type { InboundEvent } from "../model.ts";
import type { InboundHandler } from "./adapter.ts";

/**
 * What an adapter's receiver does with each normalized event: hands it to the engine's
 * handler (a failure is logged, never thrown back into the SDK's listener) and counts the
 * events in flight, so `close()` can wait for them before the adapter stops.
 */
export class Handoff {
  readonly #log: Logger;
  #handler: InboundHandler | undefined;
  #inflight = 0;
  #drained: (() => void) | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  get open(): boolean {
    return this.#handler !== undefined;
  }

  start(handler: InboundHandler): void {
    this.#handler = handler;
  }

  /** Hands nothing more over; resolves when the events in flight are handed. */
  async close(): Promise<void> {
    this.#handler = undefined;
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#drained = undefined;
  }

  async hand(event: InboundEvent): Promise<void> {
    const handler = this.#handler;
    if (!handler) return;
    this.#inflight++;
    try {
      await handler(event);
    } catch (error) {
      this.#log.error({ err: error, eventId: event.id }, "inbound handler failed");
    } finally {
      if (--this.#inflight === 0) this.#drained?.();
    }
  }
}
