/**
 * The default store: lowdb snapshot + append-only log for the main state, one JSONL file per
 * session for message history, and a lock file. Files under `dir`:
 *
 *   LOCK                 {pid, hostname, startedAt} of the process that holds the directory
 *   state.json           snapshot of sessions, tasks, journal, outbox, dedupe keys (lowdb)
 *   state.log            JSONL changes since the snapshot, replayed on open
 *   history/<id>.jsonl   messages of one session, oldest first
 *   feed/<id>.jsonl      feed events of one session, in seq order (see feed.ts)
 *
 * Write path: a change is applied to the in-memory state at once, then its record goes to
 * `state.log` (coalesced with the other changes of the same tick); the promise resolves when
 * the line is written. When the log passes `compactAfterBytes`, and on close, the state is
 * written as a new snapshot (temp file + rename) and the log is cut to what came after.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Low } from "lowdb";
import { ChatflowError } from "../../errors.ts";
import type { Message, Session } from "../../model.ts";
import type { Schedule } from "../records.ts";
import type { FeedRecord, JournalEntry, NewFeedRecord, OutboxRecord, Task } from "../records.ts";
import type { FeedFilter, FeedPageRequest, Page, PageRequest, SessionFilter, Store, TaskFilter } from "../port.ts";
import { FeedFiles } from "./feed.ts";
import { assertSessionId, History } from "./history.ts";
import { acquireLock, type DirLock } from "./lock.ts";
import { mergePatch, revise } from "../query.ts";
import { SnapshotFile } from "./snapshot.ts";
import { StateLog } from "./state-log.ts";
import { emptyState, State, toLogRecord, type LogRecord, type StateData } from "./state.ts";

/** Where the store reports what it had to work around (pino loggers fit). */
export interface StoreLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface LowdbStoreOptions {
  /** Data directory (created if missing); one chatflow process at a time may use it. */
  dir: string;
  /** Compact (write a new snapshot, empty the log) once `state.log` passes this many bytes. Default 8 MiB. */
  compactAfterBytes?: number;
  /**
   * fsync every write and snapshot. Default false: a change is durable once written to the
   * OS, which survives the process being killed at any moment but not a power loss or OS
   * crash (the last few seconds of writes may be lost then). True survives those too, at the
   * cost of a disk flush per write (milliseconds on most disks).
   */
  fsync?: boolean;
  /** Receives warnings (torn lines dropped, stale lock taken over) and compaction info. Default: console. */
  logger?: StoreLogger;
}

/** Default for `compactAfterBytes`: 8 MiB. */
export const DEFAULT_COMPACT_AFTER_BYTES = 8 << 20;

const consoleLogger: StoreLogger = { warn: (obj, msg) => console.warn(`chatflow store: ${msg}`, obj) };

type Status = "new" | "open" | "closing" | "closed";

class LowdbStore implements Store {
  readonly exclusive = true;
  readonly #dir: string;
  readonly #compactAfter: number;
  readonly #fsync: boolean;
  readonly #logger: StoreLogger;
  #status: Status = "new";
  #lock?: DirLock;
  #low?: Low<StateData>;
  #state?: State;
  #log?: StateLog;
  #history?: History;
  #feed?: FeedFiles;
  #compaction?: Promise<void>;
  /** Log size that triggers the next compaction (pushed further after a failure). */
  #compactAt = 0;

  constructor(options: LowdbStoreOptions) {
    this.#dir = resolve(options.dir);
    this.#compactAfter = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.#fsync = options.fsync ?? false;
    this.#logger = options.logger ?? consoleLogger;
  }

  async open(): Promise<void> {
    if (this.#status === "open" || this.#status === "closing") throw new ChatflowError("store", `The store at ${this.#dir} is already open.`);
    await mkdir(join(this.#dir, "history"), { recursive: true });
    const warn = (obj: object, msg: string) => this.#logger.warn(obj, msg);
    const lock = await acquireLock(this.#dir, warn);
    let log: StateLog | undefined;
    try {
      // Nothing below writes before the snapshot and the whole log have been read and checked.
      const snapshot = new SnapshotFile(join(this.#dir, "state.json"), { fsync: this.#fsync });
      const low = new Low<StateData>(snapshot, emptyState());
      await low.read();
      const state = new State(low.data);
      log = new StateLog(join(this.#dir, "state.log"), { fsync: this.#fsync, warn, onWritten: (bytes) => this.#maybeCompact(bytes) });
      await log.open((value) => state.apply(toLogRecord(value)));
      this.#history = new History({ dir: join(this.#dir, "history"), fsync: this.#fsync, warn });
      const feed = new FeedFiles({
        dir: join(this.#dir, "feed"),
        fsync: this.#fsync,
        lastSeq: state.data.feedSeq,
        reserve: (upTo) => this.#commit({ t: "feedSeq", v: upTo }).written,
        sessionOfTask: (taskId) => this.#state?.data.tasks.get(taskId)?.sessionId,
        warn,
      });
      await feed.open();
      this.#feed = feed;
      this.#lock = lock;
      this.#low = low;
      this.#state = state;
      this.#log = log;
      this.#compactAt = this.#compactAfter;
      this.#status = "open";
      this.#maybeCompact(log.bytes);
    } catch (error) {
      await log?.close().catch(() => undefined);
      await lock.release();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#status !== "open") return;
    this.#status = "closing";
    const log = this.#log!;
    try {
      await this.#compaction;
      await this.#history!.close();
      await this.#feed!.close();
      // Record the exact last seq over the reservation ahead of it: a restart leaves no gap.
      const lastSeq = this.#feed!.lastSeq;
      if (lastSeq !== this.#state!.data.feedSeq) await this.#commit({ t: "feedSeq", v: lastSeq }).written;
      await log.drain();
      // Leave a compact directory behind: the next open reads one snapshot and an empty log.
      if (log.bytes > 0) await this.#compact();
    } finally {
      await log.close().catch(() => undefined);
      await this.#lock!.release();
      this.#status = "closed";
    }
  }

  #maybeCompact(bytes: number): void {
    if (bytes <= this.#compactAt || this.#compaction || this.#status !== "open") return;
    this.#compaction = this.#compact()
      .then(
        () => {
          this.#compactAt = this.#compactAfter;
        },
        (error: unknown) => {
          // Try again only after as much growth again, so a full disk doesn't loop.
          this.#compactAt = bytes + this.#compactAfter;
          this.#logger.warn({ err: error, dir: this.#dir }, "store compaction failed; the log keeps every change and compaction will be retried");
        },
      )
      .finally(() => {
        this.#compaction = undefined;
      });
  }

  /** New snapshot, then drop from the log what the snapshot holds. */
  async #compact(): Promise<void> {
    const started = performance.now();
    // Every record written up to here was applied to memory before it was written, so the
    // snapshot holds it. Changes made while the snapshot is written land after `offset`.
    const offset = this.#log!.bytes;
    await this.#low!.write();
    await this.#log!.dropPrefix(offset);
    const snapshot = this.#low!.adapter as SnapshotFile;
    this.#logger.info?.({ dir: this.#dir, ms: Math.round(performance.now() - started), snapshotBytes: snapshot.lastBytes, logBytesDropped: offset }, "store compacted");
  }

  #open(): State {
    if (this.#status !== "open") {
      throw new ChatflowError("store", this.#status === "new" ? "The store is not open yet: call open() first." : "The store is closed.");
    }
    return this.#state!;
  }

  /** Applies a change in memory and queues its log line; `value` is the private stored copy. */
  #commit<R extends LogRecord>(record: R): { value: R; written: Promise<void> } {
    const line = `${JSON.stringify(record)}\n`;
    // Parsing the line back gives a private copy shaped exactly as a replay would rebuild it.
    const value = JSON.parse(line) as R;
    this.#state!.apply(value);
    return { value, written: this.#log!.append(line) };
  }

  async createSession(session: Session): Promise<void> {
    const state = this.#open();
    assertSessionId(session.id);
    if (state.data.sessions.has(session.id)) throw new ChatflowError("store", `A session with id ${session.id} already exists.`);
    await this.#commit({ t: "session", v: session }).written;
  }

  async getSession(id: string): Promise<Session | undefined> {
    const s = this.#open().data.sessions.get(id);
    return s && structuredClone(s);
  }

  async findOpenSession(key: string): Promise<Session | undefined> {
    const s = this.#open().findOpenSession(key);
    return s && structuredClone(s);
  }

  async updateSession(id: string, patch: Partial<Omit<Session, "id">>): Promise<Session | undefined> {
    const current = this.#open().data.sessions.get(id);
    if (!current) return undefined;
    const { value, written } = this.#commit({ t: "session", v: mergePatch(current, patch, { id }) });
    await written;
    return structuredClone(value.v);
  }

  async listSessions(filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>> {
    const result = this.#open().listSessions(filter, page);
    return { ...result, items: result.items.map((s) => structuredClone(s)) };
  }

  async appendMessage(message: Message): Promise<void> {
    this.#open();
    await this.#history!.append(message);
  }

  async listMessages(sessionId: string, limit: number): Promise<Message[]> {
    this.#open();
    return this.#history!.list(sessionId, limit);
  }

  async createTask(task: Task): Promise<void> {
    const state = this.#open();
    if (state.data.tasks.has(task.id)) throw new ChatflowError("store", `A task with id ${task.id} already exists.`);
    await this.#commit({ t: "task", v: task }).written;
  }

  async getTask(id: string): Promise<Task | undefined> {
    const t = this.#open().data.tasks.get(id);
    return t && structuredClone(t);
  }

  async updateTask(id: string, patch: Partial<Omit<Task, "id" | "rev">>, options?: { ifRev?: number }): Promise<Task | undefined> {
    // Check and change happen in one synchronous step: no other update can slip in between.
    const next = revise(this.#open().data.tasks.get(id), patch, options?.ifRev);
    if (!next) return undefined;
    const { value, written } = this.#commit({ t: "task", v: next });
    await written;
    return structuredClone(value.v);
  }

  async listTasks(filter?: TaskFilter, page?: PageRequest): Promise<Page<Task>> {
    const result = this.#open().listTasks(filter, page);
    return { ...result, items: result.items.map((t) => structuredClone(t)) };
  }

  async deleteTasks(ids: string[]): Promise<void> {
    const { data } = this.#open();
    const writes: Promise<void>[] = [];
    const bySession = new Map<string, Set<string>>();
    for (const id of new Set(ids)) {
      const sessionId = data.tasks.get(id)?.sessionId;
      if (sessionId !== undefined) bySession.set(sessionId, (bySession.get(sessionId) ?? new Set()).add(id));
      if (data.tasks.has(id) || data.journal.has(id) || data.outbox.has(id)) writes.push(this.#commit({ t: "taskDel", k: id }).written);
    }
    // The tasks' feed events go too (if a crash stops this half way, pruneFeed removes them by age later).
    writes.push(this.#feed!.removeTasks(bySession));
    await Promise.all(writes);
  }

  async getJournal(taskId: string): Promise<Map<string, JournalEntry>> {
    const entries = this.#open().data.journal.get(taskId);
    return new Map([...(entries ?? [])].map(([k, v]) => [k, structuredClone(v)]));
  }

  async appendJournal(taskId: string, key: string, entry: JournalEntry): Promise<void> {
    this.#open();
    await this.#commit({ t: "journal", task: taskId, key, v: entry }).written;
  }

  async getOutbox(taskId: string): Promise<Map<string, OutboxRecord>> {
    const records = this.#open().data.outbox.get(taskId);
    return new Map([...(records ?? [])].map(([k, v]) => [k, structuredClone(v)]));
  }

  async putOutbox(taskId: string, key: string, record: OutboxRecord): Promise<void> {
    this.#open();
    await this.#commit({ t: "outbox", task: taskId, key, v: record }).written;
  }

  async claimEvent(key: string, expiresAt: number): Promise<boolean> {
    const seen = this.#open().data.events.get(key);
    if (seen !== undefined && seen > Date.now()) return false;
    await this.#commit({ t: "event", k: key, x: expiresAt }).written;
    return true;
  }

  async hasEvent(key: string): Promise<boolean> {
    const seen = this.#open().data.events.get(key);
    return seen !== undefined && seen > Date.now();
  }

  async appendFeedEvents(events: NewFeedRecord[]): Promise<FeedRecord[]> {
    this.#open();
    return this.#feed!.append(events);
  }

  async readFeed(filter?: FeedFilter, page?: FeedPageRequest): Promise<FeedRecord[]> {
    this.#open();
    return this.#feed!.read(filter, page);
  }

  async pruneFeed(options: { before: number }): Promise<number> {
    this.#open();
    return this.#feed!.prune(options.before);
  }

  async createSchedule(schedule: Schedule): Promise<void> {
    const state = this.#open();
    if (state.data.schedules.has(schedule.id)) throw new ChatflowError("store", `A schedule with id ${schedule.id} already exists.`);
    await this.#commit({ t: "schedule", v: schedule }).written;
  }

  async getSchedule(id: string): Promise<Schedule | undefined> {
    const s = this.#open().data.schedules.get(id);
    return s && structuredClone(s);
  }

  async updateSchedule(id: string, patch: Partial<Omit<Schedule, "id" | "rev">>, options?: { ifRev?: number }): Promise<Schedule | undefined> {
    const next = revise(this.#open().data.schedules.get(id), patch, options?.ifRev);
    if (!next) return undefined;
    const { value, written } = this.#commit({ t: "schedule", v: next });
    await written;
    return structuredClone(value.v);
  }

  async listSchedules(): Promise<Schedule[]> {
    return [...this.#open().data.schedules.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map((s) => structuredClone(s));
  }

  async deleteSchedule(id: string): Promise<void> {
    this.#open();
    await this.#commit({ t: "scheduleDel", k: id }).written;
  }
}

/**
 * The default, file-based store (see the top of this file for the layout). Call `open()`
 * before use: it takes the directory lock (StoreLockedError if another live process holds
 * it) and loads the data (StoreCorruptError naming the file if a file can't be read).
 */
export function createLowdbStore(options: LowdbStoreOptions): Store {
  return new LowdbStore(options);
}
