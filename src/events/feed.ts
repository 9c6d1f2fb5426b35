import type { Logger } from "../logger.ts";
import type { FeedFilter, FeedPageRequest, Store } from "../store/port.ts";
import { feedSessions } from "../store/query.ts";
import type { FeedRecord, NewFeedRecord } from "../store/records.ts";
import { ProgressGate } from "./progress-gate.ts";
import type { FeedEvent, FeedListener, NewFeedEvent, Unsubscribe } from "./types.ts";

export interface EventFeedOptions {
  store: Store;
  /** Where failed writes and throwing listeners are reported. */
  log?: Pick<Logger, "warn">;
  /** At most one stored progress event per task per this many ms; default 250 (see ProgressGate). */
  progressIntervalMs?: number;
}

export interface SubscribeOptions {
  /** Replay stored events with a larger seq first (0: from the start); without it, live events only. */
  after?: number;
  /** The replay failed (the store could not be read): the subscription has ended. Default: logged. */
  onError?: (error: unknown) => void;
}

/** Events read per store call during a replay. */
const REPLAY_PAGE = 500;

interface Subscriber {
  match: (event: FeedRecord) => boolean;
  listener: FeedListener;
  /** The seq of the last event delivered (or `after`): nothing at or below it is delivered again. */
  last: number;
  /** Live events that arrive while the replay runs; undefined once live. */
  buffer: FeedEvent[] | undefined;
  closed: boolean;
}

function freeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freeze(v);
  }
  return value;
}

/**
 * The durable, ordered feed of what happens in every session: published events are stored
 * (numbered by the store), then handed to the subscribers whose filter they match, in seq
 * order. A subscriber may first replay what it missed (`after`) and then goes on live, with
 * no gap and nothing twice. Delivered events are frozen: listeners share them.
 */
export class EventFeed {
  readonly #store: Store;
  readonly #log: Pick<Logger, "warn"> | undefined;
  readonly #progress: ProgressGate;
  readonly #subscribers = new Set<Subscriber>();
  /** Notifications run one after another, in the order of publishing, which is seq order. */
  #chain: Promise<void> = Promise.resolve();
  /**
   * A store several processes share (it can watch its feed): subscribers are notified from the
   * stored feed's tail, read in seq order, so the events of every process arrive in one order
   * with no gap; without it, from this process's own publishing.
   */
  #tail: FeedTail | undefined;

  constructor(options: EventFeedOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#progress = new ProgressGate(options.progressIntervalMs ?? 250, (event) => this.#publishNow(event));
  }

  /**
   * With a shared store: follows the feed from its current end (call once the store is open).
   * `sessionSeen` is awaited before the first event of each session this process hears of
   * from the feed, so whoever follows a person's sessions as they open (sessions opened by
   * other processes too) follows it before its event is delivered.
   */
  async open(options: { sessionSeen?: (sessionId: string) => Promise<void> } = {}): Promise<void> {
    if (!this.#store.watchFeed || !this.#store.feedHead || this.#tail) return;
    this.#tail = new FeedTail(this.#store, await this.#store.feedHead(), (event) => this.#notify(event), this.#log, options.sessionSeen);
  }

  /** Stops following the shared feed. */
  close(): void {
    this.#tail?.close();
    this.#tail = undefined;
  }

  /**
   * Stores the event, then notifies subscribers; resolves when that is done (never rejects: a
   * failed write is logged, and nobody sees the event). Progress events are coalesced per task.
   * Listeners are not awaited.
   */
  publish(event: NewFeedEvent): Promise<void> {
    if (event.type === "progress") return this.#progress.offer(event);
    if (event.taskId !== undefined) this.#progress.before(event.taskId);
    const published = this.#publishNow(event);
    if (event.type === "end") this.#progress.forget(event.taskId);
    return published;
  }

  /**
   * Delivers the events matching `filter` to `listener`: with `after`, first the stored ones
   * with a larger seq, then live ones; without it, live ones only. Returns the function that
   * ends the subscription (its `ready` resolves when the replay is done).
   */
  subscribe(filter: FeedFilter, listener: FeedListener, options: SubscribeOptions = {}): Unsubscribe {
    const sessions = feedSessions(filter);
    const sub: Subscriber = { match: (event) => (sessions === undefined || sessions.has(event.sessionId)) && (filter.taskId === undefined || event.taskId === filter.taskId), listener, last: options.after ?? 0, buffer: options.after === undefined ? undefined : [], closed: false };
    // Registered before reading: whatever is published from now on is buffered, nothing falls between.
    this.#subscribers.add(sub);
    const unsubscribe = (): void => {
      sub.closed = true;
      this.#subscribers.delete(sub);
    };
    const ready =
      options.after === undefined
        ? Promise.resolve()
        : this.#replay(sub, filter, options.after).catch((error: unknown) => {
            unsubscribe();
            if (options.onError) options.onError(error);
            else this.#log?.warn({ err: error }, "feed replay failed; the subscription ended");
          });
    return Object.assign(unsubscribe, { ready, follow: (sessionId: string) => void sessions?.add(sessionId) });
  }

  /** Stored events matching `filter` with seq > `after`, oldest first (for paging). */
  async read(filter: FeedFilter = {}, page: FeedPageRequest = {}): Promise<FeedEvent[]> {
    return (await this.#store.readFeed(filter, page)) as FeedEvent[];
  }

  /** Publishes held progress and resolves when everything published so far is stored and delivered. */
  async flush(): Promise<void> {
    this.#progress.releaseAll();
    let chain: Promise<void>;
    do {
      chain = this.#chain;
      await chain;
    } while (chain !== this.#chain);
  }

  #publishNow(event: NewFeedEvent): Promise<void> {
    const record = { ...event, at: event.at ?? Date.now() } as NewFeedRecord;
    let stored: Promise<FeedRecord[]>;
    try {
      // Numbered now, at the call: the order of publishing is the order of seqs.
      stored = this.#store.appendFeedEvents([record]);
    } catch (error) {
      stored = Promise.reject(error);
    }
    stored.catch(() => undefined); // handled below, in turn
    const tail = this.#tail;
    const notified = this.#chain
      .then(() => stored)
      .then(
        async (events) => {
          // Shared: delivered by the tail, with the other processes' events in seq order.
          if (tail) return tail.caughtUp(events as FeedEvent[]);
          for (const e of events) this.#notify(freeze(e as FeedEvent));
        },
        (error: unknown) => {
          this.#log?.warn({ err: error, type: event.type, sessionId: event.sessionId, taskId: event.taskId }, "feed event not stored; subscribers don't see it");
        },
      );
    this.#chain = notified;
    return notified;
  }

  async #replay(sub: Subscriber, filter: FeedFilter, after: number): Promise<void> {
    let cursor = after;
    for (;;) {
      const page = (await this.#store.readFeed(filter, { after: cursor, limit: REPLAY_PAGE })) as FeedEvent[];
      if (sub.closed) return;
      for (const e of page) this.#deliver(sub, freeze(e));
      if (page.length < REPLAY_PAGE) break;
      cursor = page.at(-1)!.seq;
    }
    // Synchronously from here: no notification can come between the last read and going live.
    const buffered = sub.buffer ?? [];
    sub.buffer = undefined;
    for (const e of buffered) this.#deliver(sub, e);
  }

  #notify(event: FeedEvent): void {
    for (const sub of this.#subscribers) {
      if (!sub.match(event)) continue;
      if (sub.buffer) sub.buffer.push(event);
      else this.#deliver(sub, event);
    }
  }

  #deliver(sub: Subscriber, event: FeedEvent): void {
    if (sub.closed || event.seq <= sub.last) return;
    sub.last = event.seq;
    try {
      const returned = sub.listener(event);
      if (returned && typeof returned.then === "function") returned.then(undefined, (error: unknown) => this.#listenerFailed(error, event));
    } catch (error) {
      this.#listenerFailed(error, event);
    }
  }

  #listenerFailed(error: unknown, event: FeedEvent): void {
    this.#log?.warn({ err: error, seq: event.seq, type: event.type }, "a feed listener failed");
  }
}

/**
 * Reads a shared feed's tail in seq order whenever it may have grown (this process appended,
 * or the store heard another process append), one read at a time, and hands each event on.
 */
class FeedTail {
  #seq: number;
  #reading: Promise<void> | undefined;
  #again = false;
  /** Set by pull(): the next round reads whatever was offered. */
  #mustRead = false;
  /** Events offered while a read was under way, and the highest seq offered. */
  #offered: FeedEvent[] = [];
  #offeredLast = 0;
  readonly #waiters: { seq: number; resolve: () => void }[] = [];
  readonly #unwatch: () => void;
  /** Sessions whose events this process has heard of (bounded: forgotten wholesale past 100k). */
  readonly #sessions = new Set<string>();

  constructor(
    private readonly store: Store,
    head: number,
    private readonly deliver: (event: FeedEvent) => void,
    private readonly log: Pick<Logger, "warn"> | undefined,
    private readonly sessionSeen: ((sessionId: string) => Promise<void>) | undefined,
  ) {
    this.#seq = head;
    this.#unwatch = store.watchFeed!((lastSeq, events) => this.offer(lastSeq, events as FeedEvent[] | undefined));
  }

  /** Resolves once every event up to the last of `appended` (this process's append) has been handed on. */
  caughtUp(appended: readonly FeedEvent[]): Promise<void> {
    const seq = appended.at(-1)?.seq ?? 0;
    if (seq <= this.#seq) return Promise.resolve();
    const reached = new Promise<void>((resolve) => this.#waiters.push({ seq, resolve }));
    this.offer(seq, appended);
    return reached;
  }

  /**
   * The feed grew up to `lastSeq`, with `events` when they are known (this process appended
   * them, or the NOTIFY carried them). Seqs are taken in commit order, so events that start
   * right after this tail's last seq and run without a gap to `lastSeq` are all there is: they
   * are handed on without a read (also when they come while a read is under way: kept until it
   * ends). Otherwise (a gap: someone else's append between, a sequence number lost to a failed
   * append; no events) the tail reads on. Already seen: nothing to do.
   */
  offer(lastSeq: number, events?: readonly FeedEvent[]): void {
    if (lastSeq <= this.#seq) return;
    if (!events || events.length === 0) return this.pull();
    this.#offered.push(...events);
    this.#offeredLast = Math.max(this.#offeredLast, lastSeq);
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = this.#read(this.#takeOffered()).finally(() => (this.#reading = undefined));
  }

  /** The feed may have grown, nothing known about how: read on. */
  pull(): void {
    this.#mustRead = true;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = this.#read().finally(() => (this.#reading = undefined));
  }

  /** The events offered that continue the tail without a gap up to the last seq offered; undefined when a read is needed. */
  #takeOffered(): readonly FeedEvent[] | undefined {
    const last = this.#offeredLast;
    const offered = this.#offered;
    this.#offered = [];
    this.#offeredLast = 0;
    if (this.#mustRead) return undefined;
    const next = offered.filter((e) => e.seq > this.#seq).sort((a, b) => a.seq - b.seq).filter((e, i, all) => i === 0 || e.seq !== all[i - 1]!.seq);
    if (last <= this.#seq) return [];
    const continues = next.length > 0 && next[0]!.seq === this.#seq + 1 && next.at(-1)!.seq === last && next.every((e, i) => i === 0 || e.seq === next[i - 1]!.seq + 1);
    return continues ? next : undefined;
  }

  /** Hands on `known` (events that continue the tail) or reads on; again while the feed may have grown meanwhile. */
  async #read(known?: readonly FeedEvent[]): Promise<void> {
    let next = known;
    for (;;) {
      if (next) {
        await this.#hand(next);
        this.#release();
      } else {
        this.#mustRead = false;
        if (!(await this.#readPages())) return;
      }
      if (!this.#again) return;
      this.#again = false;
      next = this.#takeOffered();
    }
  }

  /** Reads the feed after the tail to its end; false when the store failed (a read is tried again in a second). */
  async #readPages(): Promise<boolean> {
    for (;;) {
      let page: FeedEvent[];
      try {
        page = (await this.store.readFeed({}, { after: this.#seq, limit: REPLAY_PAGE })) as FeedEvent[];
      } catch (error) {
        this.log?.warn({ err: error }, "the shared feed could not be read; trying again in a second");
        setTimeout(() => this.pull(), 1000).unref();
        return false;
      }
      await this.#hand(page);
      this.#release();
      if (page.length < REPLAY_PAGE) return true;
    }
  }

  async #hand(events: readonly FeedEvent[]): Promise<void> {
    for (const event of events) {
      if (event.seq <= this.#seq) continue;
      if (this.sessionSeen && !this.#sessions.has(event.sessionId)) {
        if (this.#sessions.size >= 100_000) this.#sessions.clear();
        this.#sessions.add(event.sessionId);
        await this.sessionSeen(event.sessionId).catch((error: unknown) => this.log?.warn({ err: error, sessionId: event.sessionId }, "a new session's followers were not told"));
      }
      this.#seq = event.seq;
      this.deliver(freeze(event));
    }
  }

  #release(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (waiter.seq <= this.#seq) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  close(): void {
    this.#unwatch();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }
}
