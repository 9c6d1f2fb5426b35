/**
 * Counters the engine keeps for monitoring (the web adapter's /metrics reads them): plain
 * numbers, so the engine needs no metrics library.
 */
export class LabeledCounter {
  readonly #values = new Map<string, { labels: Record<string, string>; value: number }>();

  inc(labels: Record<string, string>, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  entries(): Array<{ labels: Record<string, string>; value: number }> {
    return [...this.#values.values()];
  }
}

export interface EngineStats {
  /** Calls to adapters, by platform and method (send, edit, recall, notify). */
  readonly adapterCalls: LabeledCounter;
  /** Of those, the ones that failed, by platform and method. */
  readonly adapterErrors: LabeledCounter;
  /** Failures that were a platform's 429 (rate limit), by platform. */
  readonly rateLimited: LabeledCounter;
  /** Inbound events ignored as re-deliveries, by platform. */
  readonly duplicateEvents: LabeledCounter;
}

export function createStats(): EngineStats {
  return { adapterCalls: new LabeledCounter(), adapterErrors: new LabeledCounter(), rateLimited: new LabeledCounter(), duplicateEvents: new LabeledCounter() };
}
