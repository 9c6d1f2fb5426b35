/** How a client follows the event feed. */
export type Transport = "sse" | "ws";

/**
 * The API's live subscriptions to the event feed (SSE streams and WebSockets), counted. Each
 * one costs a feed listener and a heartbeat timer for as long as it lives, so one that
 * outlives its response is a leak that grows with every request; the count is in /metrics
 * (`chatflow_event_subscriptions`), where such a leak shows.
 */
export class EventStreams {
  readonly #open: Record<Transport, number> = { sse: 0, ws: 0 };

  /**
   * Counts a subscription until the returned function is called; that function also ends it
   * (`end`: unsubscribe, stop timers). It may be called any number of times, from any of the
   * ways a stream can end; only the first does anything.
   */
  track(transport: Transport, end: () => void): () => void {
    this.#open[transport]++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#open[transport]--;
      end();
    };
  }

  /** Live subscriptions, of one transport or of both. */
  count(transport?: Transport): number {
    return transport ? this.#open[transport] : this.#open.sse + this.#open.ws;
  }
}
