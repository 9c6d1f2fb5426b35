/**
 * The store's one LISTEN connection (a dedicated pg.Client, not a pool one), opened when the
 * first listener comes: it hears the NOTIFY every feed append sends at commit (feed.ts) and
 * the signals processes send each other (StoreSignals, src/store/signals.ts). When it drops,
 * it is opened again with growing pauses; once listening (the first time and after every
 * reconnect) listeners are told that anything may have been missed: feed watchers get the
 * feed's last seq, signal listeners a `work` and a `schedules` signal with empty payloads.
 */
import pg from "pg";
import type { FeedRecord } from "../records.ts";
import type { SignalTopic } from "../signals.ts";
import type { PostgresStoreLogger } from "./connect.ts";

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
const TOPICS: readonly SignalTopic[] = ["work", "cancel", "schedules"];

export interface ListenOptions {
  /** The settings of the dedicated connection. */
  config: pg.ClientConfig;
  /**
   * The channel of feed appends (payload: the last seq, or `{"last": seq, "events": [...]}` for
   * a small append) and the channel of signals (payload: `topic:payload`).
   */
  feedChannel: string;
  signalChannel: string;
  /** The feed's last seq, read through the pool. */
  lastSeq: () => Promise<number>;
  logger: PostgresStoreLogger;
  where: { host: string; port: number };
}

type SignalListener = (topic: SignalTopic, payload: string) => void;
type FeedListener = (lastSeq: number, events?: FeedRecord[]) => void;

export class Listen {
  readonly #feed = new Set<FeedListener>();
  readonly #signals = new Set<SignalListener>();
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryMs = FIRST_RETRY_MS;
  #started = false;
  #closed = false;

  constructor(private readonly options: ListenOptions) {}

  watchFeed(listener: FeedListener): () => void {
    const entry: FeedListener = (seq, events) => listener(seq, events);
    this.#feed.add(entry);
    this.#start();
    return () => void this.#feed.delete(entry);
  }

  onSignal(listener: SignalListener): () => void {
    const entry: SignalListener = (topic, payload) => listener(topic, payload);
    this.#signals.add(entry);
    this.#start();
    return () => void this.#signals.delete(entry);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    void this.#connect();
  }

  #tell<A extends unknown[]>(listeners: Iterable<(...args: A) => void>, ...args: A): void {
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        this.options.logger.warn({ error: (error as Error).message }, "a store listener threw; the others were still told");
      }
    }
  }

  #heard(channel: string, payload: string): void {
    if (channel === this.options.feedChannel) {
      const heard = feedPayload(payload);
      if (heard) this.#tell(this.#feed, heard.last, heard.events);
      return;
    }
    if (channel !== this.options.signalChannel) return;
    const colon = payload.indexOf(":");
    const topic = (colon < 0 ? payload : payload.slice(0, colon)) as SignalTopic;
    if (TOPICS.includes(topic)) this.#tell(this.#signals, topic, colon < 0 ? "" : payload.slice(colon + 1));
  }

  /** Once listening: whatever was sent while not listening may be missed, so everyone looks again. */
  #caughtUp(): void {
    this.#tell(this.#signals, "work", "");
    this.#tell(this.#signals, "schedules", "");
    if (this.#feed.size === 0) return;
    this.options.lastSeq().then(
      (seq) => this.#tell(this.#feed, seq),
      () => undefined,
    );
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.options.config);
    let dropped = false;
    const drop = (error?: Error & { code?: string }) => {
      if (dropped) return;
      dropped = true;
      if (this.#client === client) this.#client = undefined;
      void client.end().catch(() => undefined);
      if (this.#closed) return;
      const { host, port } = this.options.where;
      this.options.logger.warn(
        { host, port, code: error?.code, retryInMs: this.#retryMs },
        `the store's LISTEN connection to PostgreSQL failed (${error?.code ?? error?.message ?? "closed"}); reconnecting`,
      );
      this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
      this.#timer.unref?.();
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    };
    client.on("error", drop);
    client.on("end", () => drop());
    client.on("notification", (message) => this.#heard(message.channel, message.payload ?? ""));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.feedChannel}"; LISTEN "${this.options.signalChannel}"`);
      if (this.#closed || dropped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      this.#retryMs = FIRST_RETRY_MS;
      this.#caughtUp();
    } catch (error) {
      drop(error as Error);
    }
  }
}

/** A feed NOTIFY's payload: the last seq, with the append's events when they fit (feed.ts). */
export function feedPayload(payload: string): { last: number; events?: FeedRecord[] } | undefined {
  if (!payload.startsWith("{")) {
    const last = Number(payload);
    return Number.isFinite(last) ? { last } : undefined;
  }
  try {
    const parsed = JSON.parse(payload) as { last?: unknown; events?: unknown };
    if (typeof parsed.last !== "number") return undefined;
    const events = Array.isArray(parsed.events) && parsed.events.every((e) => typeof (e as { seq?: unknown })?.seq === "number") ? (parsed.events as FeedRecord[]) : undefined;
    return { last: parsed.last, ...(events ? { events } : {}) };
  } catch {
    return undefined;
  }
}
