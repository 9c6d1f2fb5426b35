/**
 * The event feed of the lowdb store: one append-only JSONL file per session,
 * `<dir>/feed/<sessionId>.jsonl`, one event per line, in seq order. Like message history it
 * grows without bound, so it stays out of the snapshot; appends to one file in one tick share
 * one write.
 *
 * Seqs are numbered in memory when `append` is called. The counter survives restarts through
 * reservations in `state.log`: before an event numbered above the reserved mark is written,
 * the store logs `{t:"feedSeq", v: mark}` with a mark RESERVE_BLOCK further on, and the
 * event's write waits for that line. So whatever a crash cuts short (a reservation, an event
 * line, both), every seq that can be on disk is at or below the last reservation on disk, and
 * the next open numbers from above it: never a seq twice, at worst a gap. A clean close logs
 * the exact last seq, so a restart leaves no gap.
 *
 * Reads are prefix-consistent: events of different sessions are written by different files'
 * queues and may land out of order, so a read returns only events at or below the watermark
 * (every seq up to it is written or failed). A reader paging on by seq never skips an event
 * that was still being written when it read past it.
 *
 * A line that is not an event (garbage, or nested deeper than the store keeps) is skipped by
 * reads, and the file is set aside with its readable events continued in a fresh file
 * (repair.ts), at the latest before the next append or rewrite. A failed append rejects with
 * a sentence naming the file.
 */
import { mkdir, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ChatflowError } from "../../errors.ts";
import { tooDeepMessage, tooDeepToStore } from "../json-depth.ts";
import type { FeedFilter, FeedPageRequest } from "../port.ts";
import { feedLimit, feedMatcher, feedSessions } from "../query.ts";
import type { FeedRecord, NewFeedRecord } from "../records.ts";
import { Appender } from "./appender.ts";
import { SerialBatcher, Semaphore } from "./batch.ts";
import { assertSessionId } from "./history.ts";
import { fsyncDir, readBackUntil, readFirst, scanForward } from "./jsonl.ts";
import { CleanAppends } from "./repair.ts";
import { writeFailed, type WriteHealth } from "./write-health.ts";

/** Seqs reserved per `feedSeq` record: one small log line per this many events. */
export const RESERVE_BLOCK = 1000;
const SESSION_FILE = /^([A-Za-z0-9_-]{1,128})\.jsonl$/;
/** Idle per-session write queues kept; older idle ones are dropped. */
const KEPT_WRITERS = 256;

export interface FeedFilesOptions {
  /** The `feed` directory (created at the first write). */
  dir: string;
  fsync?: boolean;
  /** The highest seq that may have been used before this open (the last `feedSeq` record). */
  lastSeq: number;
  /** Durably records that seqs up to `upTo` may be in use (a `feedSeq` line in state.log). */
  reserve(upTo: number): Promise<void>;
  /** The session of a task, for reads filtered by task alone. */
  sessionOfTask(taskId: string): string | undefined;
  warn: (obj: object, msg: string) => void;
  /** Where failed and successful appends are reported. */
  health: WriteHealth;
  /** File operations in flight at once; default 32. */
  ioSlots?: number;
}

/** Throws unless `v` is a feed event the store can hand out. */
function checkEvent(v: unknown): void {
  const r = v as FeedRecord;
  if (typeof v !== "object" || v === null || Array.isArray(v) || typeof r.seq !== "number" || typeof r.sessionId !== "string" || typeof r.type !== "string" || typeof r.at !== "number") {
    throw new Error("not a feed event (needs seq, type, sessionId, at)");
  }
  if (tooDeepToStore(v)) throw new Error("the event nests deeper than the store keeps");
}

export class FeedFiles {
  readonly #o: FeedFilesOptions;
  readonly #io: Semaphore;
  /** Write queues by session; insertion order is recency. */
  readonly #writers = new Map<string, SerialBatcher<string>>();
  /** The files' append handles, kept open. */
  readonly #appender: Appender;
  /** Appends not yet settled, for `drain`. */
  readonly #inflight = new Set<Promise<unknown>>();
  /** The last seq handed out. */
  #last: number;
  /** The highest seq covered by a reservation written or being written; `#durable`: written. */
  #reserved: number;
  #durable: number;
  /** The reservation the next writes wait for. */
  #gate: Promise<void> = Promise.resolve();
  /** Seqs handed out and not yet settled (written or failed), ascending. */
  readonly #unsettled: number[] = [];
  readonly #settled = new Set<number>();
  #dirMade = false;
  /** Never an append after a bad line: each file checked once per run, set aside when it holds one. */
  readonly #appends: CleanAppends;

  constructor(options: FeedFilesOptions) {
    this.#o = options;
    this.#io = new Semaphore(options.ioSlots ?? 32);
    this.#appends = new CleanAppends({ kind: "feed", check: checkEvent, fsync: options.fsync ?? false, warn: options.warn });
    this.#appender = new Appender({ maxOpen: 128, fsync: options.fsync ?? false, kind: "feed", warn: options.warn, check: this.#appends.appendCheck });
    this.#last = this.#reserved = this.#durable = options.lastSeq;
  }

  /** The last seq handed out. */
  get lastSeq(): number {
    return this.#last;
  }

  /** Every seq up to this one is settled: reads return nothing above it. */
  get watermark(): number {
    return this.#unsettled.length > 0 ? this.#unsettled[0]! - 1 : this.#last;
  }

  /** Removes temp files left by a rewrite that a crash cut short. */
  async open(): Promise<void> {
    for (const name of await this.#names()) if (name.endsWith(".tmp")) await unlink(join(this.#o.dir, name)).catch(() => undefined);
  }

  append(events: NewFeedRecord[]): Promise<FeedRecord[]> {
    for (const e of events) {
      assertSessionId(e.sessionId);
      if (tooDeepToStore(e)) return Promise.reject(new ChatflowError("validation", tooDeepMessage(`${e.type} event of session`, e.sessionId)));
    }
    if (events.length === 0) return Promise.resolve([]);
    // Parsed back from the line: a private copy shaped exactly as a later read returns it.
    const lines = events.map((e) => `${JSON.stringify({ seq: ++this.#last, ...e })}\n`);
    const stored = lines.map((line) => JSON.parse(line) as FeedRecord);
    const seqs = stored.map((e) => e.seq);
    this.#unsettled.push(...seqs);
    const gate = this.#reserveUpTo(this.#last);
    const bySession = new Map<string, string[]>();
    stored.forEach((e, i) => {
      const list = bySession.get(e.sessionId);
      if (list) list.push(lines[i]!);
      else bySession.set(e.sessionId, [lines[i]!]);
    });
    const written = Promise.all([...bySession].map(([id, ls]) => gate.then(() => this.#writer(id).push(ls.join("")))));
    const settled = written.then(
      () => this.#settle(seqs),
      () => this.#settle(seqs),
    );
    this.#inflight.add(settled);
    void settled.finally(() => this.#inflight.delete(settled));
    return written.then(() => stored.map((e) => structuredClone(e)));
  }

  async read(filter: FeedFilter = {}, page: FeedPageRequest = {}): Promise<FeedRecord[]> {
    const limit = feedLimit(page);
    const after = page.after ?? 0;
    const upTo = this.watermark;
    if (limit === 0 || upTo <= after) return [];
    const match = feedMatcher(filter);
    const named = feedSessions(filter);
    // A task's events are in its session's file; without a filter, or for a task no longer
    // stored, every file is read (a full scan: meant for tools and tests, not hot paths).
    const ofTask = filter.taskId !== undefined ? this.#o.sessionOfTask(filter.taskId) : undefined;
    const ids = named ? [...named] : ofTask !== undefined ? [ofTask] : (await this.#names()).flatMap((name) => SESSION_FILE.exec(name)?.[1] ?? []);
    const found: FeedRecord[] = [];
    for (const id of ids) {
      try {
        assertSessionId(id);
      } catch {
        continue; // no such file can exist
      }
      const file = this.#file(id);
      let bad = false;
      // No exclusive section needed: a line being written is above the watermark, and a torn one is skipped.
      const { values } = await this.#io.use(() =>
        readBackUntil(file, (v) => (v as FeedRecord).seq <= after, Infinity, { check: checkEvent, onBad: () => (bad = true) }),
      );
      // Set the file aside between its writes (see repair.ts); a failure is reported there and retried at the next append.
      if (bad) await this.#writer(id).exclusive(() => this.#setAside(file)).catch(() => undefined);
      for (const v of values) {
        const e = v as FeedRecord;
        if (e.seq <= upTo && match(e)) found.push(e);
      }
    }
    found.sort((a, b) => a.seq - b.seq);
    return found.slice(0, limit);
  }

  /**
   * The highest seq in any feed file (0 when there are none), read from each file's last
   * readable event. For opens without the high-water marks (see generations.ts): numbering
   * then goes on above it, so no seq is used twice whatever the state files say.
   */
  async maxSeqOnDisk(): Promise<number> {
    let max = 0;
    for (const name of await this.#names()) {
      const id = SESSION_FILE.exec(name)?.[1];
      if (!id) continue;
      const { values } = await this.#io.use(() => readBackUntil(this.#file(id), () => false, 1, { check: checkEvent, onBad: () => undefined }));
      const last = values[0] as FeedRecord | undefined;
      if (last && last.seq > max) max = last.seq;
    }
    return max;
  }

  /** Numbering goes on above `seq` (never lowers it): called at open, before any append. */
  raiseLastSeq(seq: number): void {
    if (seq <= this.#last) return;
    this.#last = this.#reserved = this.#durable = seq;
  }

  /** Removes the events of these tasks (session id → task ids). */
  async removeTasks(bySession: Map<string, Set<string>>): Promise<void> {
    await Promise.all([...bySession].map(([id, tasks]) => this.#rewrite(id, (e) => e.taskId === undefined || !tasks.has(e.taskId))));
  }

  /** Removes events older than `before`; only files whose first event is older are rewritten. */
  async prune(before: number): Promise<number> {
    let removed = 0;
    for (const name of await this.#names()) {
      const id = SESSION_FILE.exec(name)?.[1];
      if (!id) continue;
      const file = this.#file(id);
      const first = await this.#io.use(() => readFirst(file, { check: checkEvent, onBad: () => undefined }));
      if (first === undefined || (first as FeedRecord).at >= before) continue;
      removed += await this.#rewrite(id, (e) => e.at >= before);
    }
    return removed;
  }

  /** Resolves once every append made so far is settled. */
  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
    await Promise.all([...this.#writers.values()].map((w) => w.drain()));
  }

  /** Writes what is pending and closes the files. */
  async close(): Promise<void> {
    await this.drain();
    await this.#appender.closeAll();
  }

  #reserveUpTo(seq: number): Promise<void> {
    if (seq <= this.#reserved) return this.#gate;
    const upTo = seq + RESERVE_BLOCK;
    this.#reserved = upTo;
    const gate = this.#o.reserve(upTo).then(
      () => {
        this.#durable = Math.max(this.#durable, upTo);
      },
      (error: unknown) => {
        // The next append reserves again; the events waiting for this one fail.
        if (this.#reserved === upTo) this.#reserved = this.#durable;
        throw error;
      },
    );
    gate.catch(() => undefined);
    this.#gate = gate;
    return gate;
  }

  #settle(seqs: number[]): void {
    for (const seq of seqs) this.#settled.add(seq);
    while (this.#unsettled.length > 0 && this.#settled.delete(this.#unsettled[0]!)) this.#unsettled.shift();
  }

  #file(sessionId: string): string {
    return join(this.#o.dir, `${sessionId}.jsonl`);
  }

  async #names(): Promise<string[]> {
    try {
      return await readdir(this.#o.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  #writer(sessionId: string): SerialBatcher<string> {
    let w = this.#writers.get(sessionId);
    if (w) {
      this.#writers.delete(sessionId);
      this.#writers.set(sessionId, w);
      return w;
    }
    w = new SerialBatcher<string>((chunks) => this.#write(sessionId, chunks.join("")));
    this.#writers.set(sessionId, w);
    if (this.#writers.size > KEPT_WRITERS) {
      for (const [key, old] of this.#writers) {
        if (this.#writers.size <= KEPT_WRITERS) break;
        if (old !== w && old.idle) this.#writers.delete(key);
      }
    }
    return w;
  }

  async #ensureDir(): Promise<void> {
    if (this.#dirMade) return;
    await mkdir(this.#o.dir, { recursive: true });
    if (this.#o.fsync) await fsyncDir(dirname(this.#o.dir));
    this.#dirMade = true;
  }

  async #write(sessionId: string, data: string): Promise<void> {
    const file = this.#file(sessionId);
    try {
      await this.#ensureDir();
      await this.#io.use(() => this.#appender.append(file, data));
    } catch (error) {
      const failure = writeFailed("feed file", file, "the event", error);
      this.#o.health.fail("feed", failure);
      throw failure;
    }
    this.#o.health.ok("feed");
  }


  /** `#repair` outside an append: closes the append handle first (it would go on writing to the file set aside). */
  async #setAside(file: string): Promise<void> {
    await this.#appender.forget(file);
    await this.#appends.repair(file);
  }

  /** Rewrites a session's file keeping the events `keep` accepts (temp file + rename); resolves how many went. */
  #rewrite(sessionId: string, keep: (e: FeedRecord) => boolean): Promise<number> {
    const file = this.#file(sessionId);
    // Exclusive: no append to this file is in flight while it is read and replaced.
    return this.#writer(sessionId).exclusive(() =>
      this.#io.use(async () => {
        // A file with bad lines is set aside first: the rewrite never drops one silently.
        await this.#setAside(file);
        const kept: string[] = [];
        let removed = 0;
        await scanForward(file, (v) => {
          checkEvent(v);
          const e = v as FeedRecord;
          if (keep(e)) kept.push(`${JSON.stringify(e)}\n`);
          else removed++;
        });
        if (removed === 0) return 0;
        // The open append handle would go on writing to the file replaced or removed.
        await this.#appender.forget(file);
        if (kept.length === 0) {
          await unlink(file).catch(() => undefined);
        } else {
          const tmp = `${file}.tmp`;
          await writeFile(tmp, kept.join(""), { flush: this.#o.fsync === true });
          await rename(tmp, file);
        }
        if (this.#o.fsync) await fsyncDir(this.#o.dir);
        return removed;
      }),
    );
  }
}
