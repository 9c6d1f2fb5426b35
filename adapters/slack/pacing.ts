import PQueue from "p-queue";

/** How long an idle channel's queue is kept. */
const IDLE_EVICT_MS = 60_000;

/**
 * Slack's documented limits as queues (p-queue): one post per `postIntervalMs` to a channel
 * (about one a second), and `chat.update` at `updatesPerMinute` across the whole workspace
 * (Tier 3, about 50 a minute), spread evenly. Edits of one message are coalesced: an edit
 * waiting for its turn is replaced by a newer one, so many busy messages each update less
 * often instead of drawing 429s, and every message still ends on its latest state.
 */
export class SlackPacing {
  readonly #postIntervalMs: number;
  readonly #updates: PQueue;
  readonly #channels = new Map<string, { queue: PQueue; lastUsed: number }>();
  #lastSweep = Date.now();
  /** Edits waiting for their turn, by message: the latest wins. */
  readonly #waiting = new Map<string, { run: () => Promise<void>; settled: Promise<void> }>();

  constructor(limits: { updatesPerMinute: number; postIntervalMs: number }) {
    this.#postIntervalMs = limits.postIntervalMs;
    const spacing = Math.max(1, Math.floor(60_000 / limits.updatesPerMinute));
    this.#updates = new PQueue({ intervalCap: 1, interval: spacing, strict: true });
  }

  /** Runs a post to `channel` in its turn; posts to one channel keep their order. */
  async post<T>(channel: string, run: () => Promise<T>): Promise<T> {
    const now = Date.now();
    if (now - this.#lastSweep >= IDLE_EVICT_MS) this.#sweep(now);
    let lane = this.#channels.get(channel);
    if (!lane) {
      const queue = new PQueue({ concurrency: 1, ...(this.#postIntervalMs > 0 ? { intervalCap: 1, interval: this.#postIntervalMs, strict: true } : {}) });
      this.#channels.set(channel, (lane = { queue, lastUsed: now }));
    }
    lane.lastUsed = now;
    return (await lane.queue.add(run)) as T;
  }

  /**
   * Runs an edit of message `key` in the workspace's update turn. An edit of the same message
   * still waiting is replaced: both callers resolve when the newer one is done.
   */
  update(key: string, run: () => Promise<void>): Promise<void> {
    const waiting = this.#waiting.get(key);
    if (waiting) {
      waiting.run = run;
      return waiting.settled;
    }
    const entry = { run, settled: Promise.resolve() };
    // Registered before add(): p-queue may start the job at once, within add().
    this.#waiting.set(key, entry);
    entry.settled = this.#updates.add(async () => {
      // From here on a newer edit queues behind this one instead of replacing it.
      if (this.#waiting.get(key) === entry) this.#waiting.delete(key);
      await entry.run();
    }) as Promise<void>;
    return entry.settled;
  }

  /** Edits waiting for their turn (for tests and the benchmark). */
  get pendingUpdates(): number {
    return this.#updates.size + this.#updates.pending;
  }

  /** Drops channels idle for longer than their pacing remembers (on a post, at most once a minute: no timer per post). */
  #sweep(now: number): void {
    this.#lastSweep = now;
    const idleFor = Math.max(IDLE_EVICT_MS, this.#postIntervalMs);
    for (const [channel, lane] of this.#channels) {
      if (lane.queue.size === 0 && lane.queue.pending === 0 && now - lane.lastUsed >= idleFor) this.#channels.delete(channel);
    }
  }
}
