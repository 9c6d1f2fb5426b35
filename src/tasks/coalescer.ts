/**
 * Delivers the latest of a stream of values at most once per `intervalMs`, in order,
 * one delivery at a time. Values in between are dropped (progress is last-value);
 * `flush` resolves once the last value given has been delivered.
 */
export class Coalescer<T> {
  readonly #deliver: (value: T) => Promise<void>;
  readonly #intervalMs: number;
  /** The newest value not yet handed to `deliver`. */
  #pending: { value: T } | undefined;
  #lastAt = 0;
  /** The loop that drains `#pending`; undefined when idle. */
  #draining: Promise<void> | undefined;

  constructor(intervalMs: number, deliver: (value: T) => Promise<void>) {
    this.#intervalMs = intervalMs;
    this.#deliver = deliver;
  }

  /** Queues a value; resolves when it (or a newer value) has been delivered. */
  push(value: T): Promise<void> {
    this.#pending = { value };
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  /** Resolves when everything pushed so far was delivered. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const wait = this.#lastAt + this.#intervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const next = this.#pending;
      if (!next) break;
      this.#pending = undefined;
      this.#lastAt = Date.now();
      await this.#deliver(next.value);
    }
  }
}
