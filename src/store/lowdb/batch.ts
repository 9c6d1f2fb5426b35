/**
 * Write coalescing and I/O concurrency helpers shared by the state log and the history files.
 */

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Runs `flush` one batch at a time. Items pushed in the same tick, or while a flush is in
 * flight, go out together in the next flush: one fs write for many changes, and writes to a
 * file never interleave. `push` resolves when the flush holding its item completes.
 */
export class SerialBatcher<T> {
  #pending: T[] = [];
  #waiters: Waiter[] = [];
  #ops: Array<() => Promise<void>> = [];
  #running = false;
  #idle: Array<() => void> = [];

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  /** Items pushed but not yet handed to `flush`: not on disk yet. */
  get pending(): readonly T[] {
    return this.#pending;
  }

  /** True when nothing is pending or in flight. */
  get idle(): boolean {
    return !this.#running && this.#pending.length === 0 && this.#ops.length === 0;
  }

  push(item: T): Promise<void> {
    this.#pending.push(item);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#kick();
    return done;
  }

  /**
   * Runs `fn` alone, at the next boundary between flushes: no write is in flight while it
   * runs, and items pushed meanwhile wait (they stay in `pending`). Used to read a file
   * consistently, or to rewrite it during compaction.
   */
  exclusive<R>(fn: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#ops.push(() => fn().then(resolve, reject));
      this.#kick();
    });
  }

  /** Resolves once everything pushed so far has been flushed (or failed). */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    // A microtask, not a direct call: everything pushed in the current synchronous run
    // joins the first batch.
    queueMicrotask(() => void this.#loop());
  }

  async #loop(): Promise<void> {
    for (;;) {
      const op = this.#ops.shift();
      if (op) {
        await op();
        continue;
      }
      if (this.#pending.length === 0) {
        // Set synchronously with the emptiness check, so a push right after restarts the loop.
        this.#running = false;
        for (const resolve of this.#idle.splice(0)) resolve();
        return;
      }
      const items = this.#pending;
      const waiters = this.#waiters;
      this.#pending = [];
      this.#waiters = [];
      try {
        await this.flush(items);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
  }
}

/** Caps concurrent file operations, so thousands of busy sessions can't exhaust file descriptors. */
export class Semaphore {
  #free: number;
  #queue: Array<() => void> = [];

  /** @param slots operations allowed at once. */
  constructor(slots: number) {
    this.#free = slots;
  }

  async use<R>(fn: () => Promise<R>): Promise<R> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** Yields to the event loop (timers and I/O run) before continuing. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
