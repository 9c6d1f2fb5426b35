/**
 * Message history: one append-only JSONL file per session, `<dir>/history/<sessionId>.jsonl`.
 *
 * History is the data that grows without bound, so it stays out of the snapshot: appending
 * costs one small append to one small file whatever the total size, and listing the last N
 * reads only the end of one file (backwards, in chunks) or is served from a per-session tail
 * cache. Appends to the same file from the same tick share one write.
 *
 * A line that is not a message (garbage, or a record nested deeper than the store keeps) is
 * skipped by reads and the file is set aside with its readable messages continued in a fresh
 * file (repair.ts), at the latest before the next append to it. A failed append rejects with
 * a sentence naming the file, and the message is not served from the tail cache.
 */
import { join } from "node:path";
import { ChatflowError } from "../../errors.ts";
import type { Message } from "../../model.ts";
import { tooDeepMessage, tooDeepToStore } from "../json-depth.ts";
import { Appender } from "./appender.ts";
import { SerialBatcher, Semaphore } from "./batch.ts";
import { readTail, type BadLine } from "./jsonl.ts";
import { CleanAppends } from "./repair.ts";
import { writeFailed, type WriteHealth } from "./write-health.ts";

/** Session ids are url-safe random ids: anything else could name a file outside the directory. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Tails longer than this are read from disk each time rather than cached. */
const MAX_CACHED_TAIL = 1_000;

export function assertSessionId(id: string): void {
  if (typeof id !== "string" || !SESSION_ID.test(id)) {
    throw new ChatflowError("validation", `Invalid session id ${JSON.stringify(id)}: expected 1-128 characters of A-Z, a-z, 0-9, "_" or "-".`);
  }
}

export interface HistoryOptions {
  /** Directory holding the `<sessionId>.jsonl` files. */
  dir: string;
  /** fsync each append (survives OS crashes, slower). Default false. */
  fsync?: boolean;
  /** Messages kept in memory per cached session; default 100 (covers the default window of 50). */
  tailSize?: number;
  /** Sessions whose tails are cached (least recently used are dropped); default 256. */
  cachedSessions?: number;
  /** File operations in flight at once, across all sessions; default 32. */
  ioSlots?: number;
  warn: (obj: object, msg: string) => void;
  /** Where failed and successful appends are reported. */
  health: WriteHealth;
}

/** Throws unless `v` is a message the store can hand out. */
function checkMessage(v: unknown): void {
  if (typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as Message).id !== "string") throw new Error("not a message (needs an id)");
  if (tooDeepToStore(v)) throw new Error("the message nests deeper than the store keeps");
}

interface Pending {
  line: string;
  /** Parsed back from `line`: a private copy, shaped exactly as a later read returns it. */
  msg: Message;
}

/** One session's file, its write queue and its cached tail. */
class SessionHistory {
  /** The last messages, oldest first; undefined until first read. */
  tail: Message[] | undefined;
  /** True when `tail` holds the whole history. */
  complete = false;
  cap: number;
  readonly batcher: SerialBatcher<Pending>;

  constructor(
    readonly id: string,
    readonly file: string,
    cap: number,
    flush: (self: SessionHistory, items: Pending[]) => Promise<void>,
  ) {
    this.cap = cap;
    this.batcher = new SerialBatcher((items) => flush(this, items));
  }

  /** From the cache, if it has enough; copies. */
  serve(limit: number): Message[] | undefined {
    const tail = this.tail;
    if (!tail || (tail.length < limit && !this.complete)) return undefined;
    // The cached records themselves: frozen (see `frozen`), so callers share them safely.
    return tail.slice(-limit);
  }

  remember(msg: Message): void {
    const tail = this.tail;
    if (!tail) return;
    tail.push(msg);
    // Trim in batches (not one shift per append) to keep appends O(1).
    if (tail.length > 2 * this.cap) {
      tail.splice(0, tail.length - this.cap);
      this.complete = false;
    }
  }
}

export class History {
  /** Insertion order is recency: the first entries are the least recently used. */
  readonly #sessions = new Map<string, SessionHistory>();
  /** The files' append handles, kept open. */
  readonly #appender: Appender;
  /** Never an append after a bad line: each file checked once per run, set aside when it holds one. */
  readonly #appends: CleanAppends;
  readonly #io: Semaphore;
  readonly #tailSize: number;
  readonly #cachedSessions: number;

  constructor(private readonly options: HistoryOptions) {
    this.#io = new Semaphore(options.ioSlots ?? 32);
    this.#tailSize = options.tailSize ?? 100;
    this.#cachedSessions = options.cachedSessions ?? 256;
    this.#appends = new CleanAppends({ kind: "history", check: checkMessage, fsync: options.fsync ?? false, warn: options.warn });
    this.#appender = new Appender({ maxOpen: 128, fsync: options.fsync ?? false, kind: "history", warn: options.warn, check: this.#appends.appendCheck });
  }

  fileOf(sessionId: string): string {
    return join(this.options.dir, `${sessionId}.jsonl`);
  }

  append(message: Message): Promise<void> {
    const id = message.sessionId;
    assertSessionId(id);
    if (tooDeepToStore(message)) return Promise.reject(new ChatflowError("validation", tooDeepMessage("message", String(message.id))));
    const line = `${JSON.stringify(message)}\n`;
    const msg = frozen(JSON.parse(line) as Message);
    const s = this.#session(id);
    s.remember(msg);
    return s.batcher.push({ line, msg });
  }

  async list(sessionId: string, limit: number): Promise<Message[]> {
    const n = Math.floor(limit);
    if (!(n > 0) || !SESSION_ID.test(sessionId)) return [];
    const s = this.#session(sessionId);
    const cached = s.serve(n);
    if (cached) return cached;
    // Exclusive: no write to this file is in flight while we read it, so disk + pending
    // (appended, not yet written) is exactly the history.
    return s.batcher.exclusive(async () => {
      const again = s.serve(n);
      if (again) return again;
      const want = Math.max(n, this.#tailSize);
      const bad: BadLine[] = [];
      const { values, complete, tornBytes } = await this.#io.use(() => readTail(s.file, want, { check: checkMessage, onBad: (b) => bad.push(b) }));
      if (tornBytes > 0) this.options.warn({ file: s.file, tornBytes }, "ignoring a torn last line in a history file (the process was stopped mid-write)");
      if (bad.length > 0) {
        // No write is in flight (exclusive): set the file aside now, not at the next append.
        await this.#appender.forget(s.file);
        await this.#appends.repair(s.file).catch(() => undefined);
      }
      const all = (values as Message[]).map(frozen).concat(s.batcher.pending.map((p) => p.msg));
      const kept = all.length > want ? all.slice(-want) : all;
      if (want <= MAX_CACHED_TAIL) {
        s.tail = kept;
        s.complete = complete && kept.length === all.length;
        s.cap = Math.max(s.cap, want);
        return s.serve(n) ?? [];
      }
      return kept.slice(-n);
    });
  }

  /** Resolves once every append made so far is written. */
  async drain(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.batcher.drain()));
  }

  /** Writes what is pending and closes the files. */
  async close(): Promise<void> {
    await this.drain();
    await this.#appender.closeAll();
  }

  #session(id: string): SessionHistory {
    let s = this.#sessions.get(id);
    if (s) {
      this.#sessions.delete(id);
      this.#sessions.set(id, s);
      return s;
    }
    s = new SessionHistory(id, this.fileOf(id), this.#tailSize, (self, items) => this.#write(self, items));
    this.#sessions.set(id, s);
    if (this.#sessions.size > this.#cachedSessions) {
      // Drop least recently used sessions that have nothing in flight.
      for (const [key, old] of this.#sessions) {
        if (this.#sessions.size <= this.#cachedSessions) break;
        if (old !== s && old.batcher.idle) this.#sessions.delete(key);
      }
    }
    return s;
  }

  async #write(s: SessionHistory, items: Pending[]): Promise<void> {
    const data = items.length === 1 ? items[0]!.line : items.map((i) => i.line).join("");
    try {
      await this.#io.use(() => this.#appender.append(s.file, data));
    } catch (error) {
      // What was not written must not be served: the next read goes to the file.
      s.tail = undefined;
      s.complete = false;
      const failure = writeFailed("history file", s.file, items.length === 1 ? "the message" : `${items.length} messages`, error);
      this.options.health.fail("history", failure);
      throw failure;
    }
    this.options.health.ok("history");
  }

}

/**
 * A parsed message, frozen deeply in place: history never changes once written, and handing
 * out the cached records (instead of a structuredClone of each, for every task's window) was
 * most of a busy bot's CPU.
 */
function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}
