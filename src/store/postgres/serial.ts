/**
 * In-process ordering: what one store object is asked to do, it does in the order asked,
 * even when the calls are not awaited one by one (as the memory and lowdb stores do).
 */

/** Runs operations on the same key one after another, in call order; different keys run concurrently. */
export class KeyedSerial {
  readonly #tails = new Map<string, Promise<void>>();

  run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const previous = this.#tails.get(key);
    const result = previous ? previous.then(fn) : fn();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every operation started so far has settled. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Hands items to `flush` a batch at a time, in push order: items pushed while a flush is in
 * flight (or in the same tick) go out together in the next one. `flush` resolves one result
 * per item. When a batch of several fails for a reason other than the connection, its items
 * are flushed again one by one, so one bad item fails alone.
 */
export class SerialBatcher<T, R> {
  #queue: Array<Waiting<T, R>> = [];
  #running = false;
  #idle: Array<() => void> = [];

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly options: { maxBatch: number; isolate: (error: unknown) => boolean },
  ) {}

  push(item: T): Promise<R> {
    const done = new Promise<R>((resolve, reject) => this.#queue.push({ item, resolve, reject }));
    if (!this.#running) {
      this.#running = true;
      // A microtask: everything pushed in the current synchronous run joins the first batch.
      queueMicrotask(() => void this.#loop());
    }
    return done;
  }

  /** Resolves once everything pushed so far has been flushed (or failed). */
  drain(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #loop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.options.maxBatch);
      try {
        const results = await this.flush(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i]!));
      } catch (error) {
        if (batch.length === 1 || !this.options.isolate(error)) {
          for (const w of batch) w.reject(error);
          continue;
        }
        for (const w of batch) {
          try {
            w.resolve((await this.flush([w.item]))[0]!);
          } catch (single) {
            w.reject(single);
          }
        }
      }
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
