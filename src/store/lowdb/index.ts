/**
 * The default store: lowdb snapshot + append-only log for the main state, one JSONL file per
 * session for message history, and a lock file. Files under `dir`:
 *
 *   LOCK                 {pid, hostname, startedAt, token, procStart} of the process that holds the directory (lock.ts)
 *   state.json           snapshot of sessions, tasks, journal, outbox, schedules, dedupe keys (lowdb), with its generation
 *   state.log            JSONL changes since the snapshot, replayed on open; its first line names the snapshot generation it continues
 *   MANIFEST             high-water marks: generation, log bytes and feed counter known written (generations.ts)
 *   history/<id>.jsonl   messages of one session, oldest first
 *   feed/<id>.jsonl      feed events of one session, in seq order (see feed.ts)
 *   quarantine/          stored records that can't be used, set aside at open (quarantine.ts)
 *   history|feed/<id>.jsonl.corrupt-<time>   a file that held unreadable lines, kept as it was (repair.ts)
 *
 * Write path: a change is applied to the in-memory state at once, then its record goes to
 * `state.log` (coalesced with the other changes of the same tick); the promise resolves when
 * the line is written. A failed write rejects with a sentence naming the file and the OS error
 * code, the change is undone in memory (undo.ts), and `health()` reports it until a later
 * write to the same place succeeds. When the log passes `compactAfterBytes`, and on close, the
 * state is written as a new snapshot (temp file + rename) and the log is cut to what came after.
 *
 * Open reads everything before it writes anything: a corrupt `state.log` or `state.json`, or
 * files that went backwards (generations.ts), are refused with every file left as it was. A
 * record that can't be used (wrong shape, nested too deep to copy) is set aside, not fatal.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Low } from "lowdb";
import { ChatflowError } from "../../errors.ts";
import type { Message, Session } from "../../model.ts";
import type { Schedule } from "../records.ts";
import type { FeedRecord, JournalEntry, NewFeedRecord, OutboxRecord, Task } from "../records.ts";
import type { FeedFilter, FeedPageRequest, Page, PageRequest, SessionFilter, Store, TaskFilter, UpdateTaskOptions } from "../port.ts";
import { leaseHeld, openSessionConflict } from "../coordination.ts";
import { tooDeepMessage, tooDeepToStore } from "../json-depth.ts";
import { FeedFiles } from "./feed.ts";
import { HighWater } from "./generations.ts";
import { assertSessionId, History } from "./history.ts";
import { acquireLock, type DirLock } from "./lock.ts";
import { mergePatch, revise } from "../query.ts";
import { loadState, openFailed } from "./load.ts";
import { saveQuarantine } from "./quarantine.ts";
import { SnapshotFile } from "./snapshot.ts";
import { logHeader, StateLog } from "./state-log.ts";
import { State, type LogRecord, type StateData } from "./state.ts";
import { PendingChanges } from "./undo.ts";
import { describeOsError, WriteHealth } from "./write-health.ts";

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
   * fsync every write. Default false: a change is durable once written to the OS, which
   * survives the process being killed at any moment but not a power loss or OS crash (the
   * last few seconds of writes may be lost then). True survives those too, at the cost of a
   * disk flush per write (milliseconds on most disks). Compactions (a new snapshot and the
   * log cut after it) are fsynced either way: they are rare, and a log cut that reached the
   * disk before its snapshot would lose everything since the previous one.
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
  readonly #health = new WriteHealth();
  #status: Status = "new";
  #lock?: DirLock;
  #low?: Low<StateData>;
  #state?: State;
  #pending?: PendingChanges;
  #log?: StateLog;
  #high?: HighWater;
  #history?: History;
  #feed?: FeedFiles;
  #compaction?: Promise<void>;
  /** Log size that triggers the next compaction (pushed further after a failure). */
  #compactAt = 0;
  /** The generation of the snapshot on disk (0 before the first one with a mark). */
  #gen = 0;
  /** Records that could not be copied out, already reported (reported once). */
  readonly #unreadable = new Set<string>();

  constructor(options: LowdbStoreOptions) {
    this.#dir = resolve(options.dir);
    this.#compactAfter = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.#fsync = options.fsync ?? false;
    this.#logger = options.logger ?? consoleLogger;
  }

  async open(): Promise<void> {
    if (this.#status === "open" || this.#status === "closing") throw new ChatflowError("store", `The store at ${this.#dir} is already open.`);
    const warn = (obj: object, msg: string) => this.#logger.warn(obj, msg);
    try {
      await mkdir(this.#dir, { recursive: true });
    } catch (error) {
      throw new ChatflowError("store", `chatflow could not create the data directory ${this.#dir} (${describeOsError(error)}). Create it, or point store.dir at a directory this user can write.`, { cause: error });
    }
    const lock = await acquireLock(this.#dir, warn);
    let log: StateLog | undefined;
    try {
      log = new StateLog(join(this.#dir, "state.log"), { fsync: this.#fsync, warn, health: this.#health, onWritten: (bytes) => this.#maybeCompact(bytes) });
      // Reads and checks every file, writes nothing (load.ts).
      const { snapshotFile, manifestFile, low, snapshot, state, scan, manifest, quarantined, notes } = await loadState(this.#dir, log, warn);

      // Checked: from here on the store may write.
      for (const note of notes) warn({ dir: this.#dir }, note);
      await log.openForAppend(scan);
      await mkdir(join(this.#dir, "history"), { recursive: true });
      this.#history = new History({ dir: join(this.#dir, "history"), fsync: this.#fsync, warn, health: this.#health });
      const feed = new FeedFiles({
        dir: join(this.#dir, "feed"),
        fsync: this.#fsync,
        lastSeq: state.data.feedSeq,
        reserve: (upTo) => this.#reserveFeedSeqs(upTo),
        sessionOfTask: (taskId) => this.#state?.data.tasks.get(taskId)?.sessionId,
        warn,
        health: this.#health,
      });
      await feed.open();
      if (!manifest) {
        // No marks to trust: never reuse a seq that a feed file holds.
        const onDisk = await feed.maxSeqOnDisk();
        if (onDisk > state.data.feedSeq) {
          warn({ dir: this.#dir, feedSeq: state.data.feedSeq, onDisk }, `the feed files hold events up to seq ${onDisk}, above the store's counter ${state.data.feedSeq}: numbering goes on above ${onDisk}`);
          state.apply({ t: "feedSeq", v: onDisk });
          feed.raiseLastSeq(onDisk);
        }
      }
      if (quarantined.length > 0) await saveQuarantine(this.#dir, quarantined, snapshotFile, warn);
      this.#feed = feed;
      this.#lock = lock;
      this.#low = low;
      this.#state = state;
      this.#pending = new PendingChanges(state);
      this.#log = log;
      this.#high = new HighWater(manifestFile, log, this.#health, warn, manifest);
      this.#high.feedSeqWritten = state.data.feedSeq;
      this.#gen = Math.max(snapshot.lastRead.gen ?? 0, scan.gen ?? 0);
      this.#compactAt = this.#compactAfter;
      // Fresh marks where they are missing or behind, and the records set aside out of the live files.
      const marked = manifest !== undefined && manifest.gen === scan.gen && scan.gen === snapshot.lastRead.gen;
      if (!marked || quarantined.length > 0) await this.#compact();
      this.#status = "open";
      this.#high.start();
      this.#maybeCompact(log.bytes);
    } catch (error) {
      await this.#high?.stop().catch(() => undefined);
      await this.#history?.close().catch(() => undefined);
      await this.#feed?.close().catch(() => undefined);
      await log?.close().catch(() => undefined);
      await lock.release();
      throw openFailed(this.#dir, error);
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
      if (lastSeq !== this.#state!.data.feedSeq) {
        await this.#commit({ t: "feedSeq", v: lastSeq }).written;
        this.#high!.feedSeqWritten = lastSeq;
      }
      await log.drain();
      await this.#high!.stop();
      // Leave a compact directory behind: the next open reads one snapshot and a log of one line.
      if (log.hasRecords || log.gen !== this.#gen) await this.#compact();
    } finally {
      await this.#high!.stop().catch(() => undefined);
      await log.close().catch(() => undefined);
      await this.#lock!.release();
      this.#status = "closed";
    }
  }

  /** The last write failure not yet followed by a successful write to the same place. */
  health(): { ok: boolean; error?: string } {
    return this.#health.report();
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
          this.#logger.warn(
            { dir: this.#dir, code: (error as NodeJS.ErrnoException)?.code },
            `store compaction failed (${describeOsError(error)}): ${join(this.#dir, "state.log")} keeps every change, and compaction is tried again after as much growth`,
          );
        },
      )
      .finally(() => {
        this.#compaction = undefined;
      });
  }

  /** New snapshot, then the log cut to what the snapshot doesn't hold, then fresh marks. */
  async #compact(): Promise<void> {
    const started = performance.now();
    const log = this.#log!;
    const snapshot = this.#low!.adapter as SnapshotFile;
    // Every record written up to here was applied to memory before it was written, so the
    // snapshot holds it. Changes made while the snapshot is written land after `offset`.
    const offset = log.bytes;
    // After a cut that failed, the log still continues the generation before ours: rewrite
    // ours rather than skip one (a log two generations behind would be refused).
    const gen = log.gen !== undefined && log.gen < this.#gen ? this.#gen : this.#gen + 1;
    snapshot.nextGen = gen;
    try {
      await this.#low!.write();
      this.#gen = gen;
      await this.#high!.serial(async () => {
        await log.dropPrefix(offset, logHeader(gen, snapshot.lastFeedSeq), gen);
        await this.#high!.compacted(gen, snapshot.lastFeedSeq);
      });
    } catch (error) {
      this.#health.fail("snapshot", new ChatflowError("store", `chatflow could not write a new snapshot of the store at ${this.#dir} (${describeOsError(error)}); the log keeps every change meanwhile.`));
      throw error;
    }
    this.#health.ok("snapshot");
    this.#logger.info?.({ dir: this.#dir, ms: Math.round(performance.now() - started), snapshotBytes: snapshot.lastBytes, logBytesDropped: offset, gen }, "store compacted");
  }

  /** A feed seq reservation (see feed.ts): its log line, then the high-water mark before any event above it is written. */
  async #reserveFeedSeqs(upTo: number): Promise<void> {
    await this.#commit({ t: "feedSeq", v: upTo }).written;
    const high = this.#high!;
    if (upTo > high.feedSeqWritten) high.feedSeqWritten = upTo;
    await high.checkpoint();
  }

  #open(): State {
    if (this.#status !== "open") {
      throw new ChatflowError("store", this.#status === "new" ? "The store is not open yet: call open() first." : "The store is closed.");
    }
    return this.#state!;
  }

  /**
   * Applies a change in memory and queues its log line; `value` is the private stored copy.
   * A record nested deeper than the store keeps is refused before anything changes. If the
   * line can't be written, the change is undone in memory before the caller hears of it.
   */
  #commit<R extends LogRecord>(record: R): { value: R; written: Promise<void> } {
    if ("v" in record && typeof record.v === "object" && tooDeepToStore(record.v)) {
      throw new ChatflowError("validation", tooDeepMessage(kindOf(record), idOf(record)));
    }
    const line = `${JSON.stringify(record)}\n`;
    // Parsing the line back gives a private copy shaped exactly as a replay would rebuild it.
    const value = JSON.parse(line) as R;
    const changes = this.#pending!.track(value);
    this.#state!.apply(value);
    const written = this.#log!.append(line);
    // Registered before the caller's await: memory is settled by the time it resumes.
    written.then(
      () => this.#pending!.settle(changes, true),
      () => this.#pending!.settle(changes, false),
    );
    return { value, written };
  }

  /** A copy for the caller; a record that can't be copied is reported once and left out (undefined). */
  #copy<T extends { id: string }>(kind: string, value: T): T | undefined {
    try {
      return structuredClone(value);
    } catch (error) {
      const key = `${kind}\u0000${value.id}`;
      if (!this.#unreadable.has(key)) {
        this.#unreadable.add(key);
        this.#logger.warn({ kind, id: value.id }, `the stored ${kind} ${JSON.stringify(value.id)} can't be read (${(error as Error).message}); it is left out of listings`);
      }
      return undefined;
    }
  }

  /** `#copy` for a single get: a record that can't be copied is an error naming it, not "missing". */
  #copyOne<T extends { id: string }>(kind: string, value: T | undefined): T | undefined {
    if (value === undefined) return undefined;
    const copy = this.#copy(kind, value);
    if (copy === undefined) throw new ChatflowError("store", `The stored ${kind} ${JSON.stringify(value.id)} can't be read (see the store's warning); the other records are not affected.`);
    return copy;
  }

  async createSession(session: Session): Promise<void> {
    const state = this.#open();
    assertSessionId(session.id);
    if (state.data.sessions.has(session.id)) throw new ChatflowError("store", `A session with id ${session.id} already exists.`);
    const open = session.state === "closed" ? undefined : state.findOpenSession(session.key);
    if (open) throw new ChatflowError("conflict", openSessionConflict(session.key, open.id));
    await this.#commit({ t: "session", v: session }).written;
  }

  async getSession(id: string): Promise<Session | undefined> {
    return this.#copyOne("session", this.#open().data.sessions.get(id));
  }

  async findOpenSession(key: string): Promise<Session | undefined> {
    return this.#copyOne("session", this.#open().findOpenSession(key));
  }

  async updateSession(id: string, patch: Partial<Omit<Session, "id">>): Promise<Session | undefined> {
    const current = this.#open().data.sessions.get(id);
    if (!current) return undefined;
    const { value, written } = this.#commit({ t: "session", v: mergePatch(current, patch, { id }) });
    await written;
    return this.#copyOne("session", value.v);
  }

  async listSessions(filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>> {
    const result = this.#open().listSessions(filter, page);
    return { ...result, items: result.items.flatMap((s) => this.#copy("session", s) ?? []) };
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
    return this.#copyOne("task", this.#open().data.tasks.get(id));
  }

  async updateTask(id: string, patch: Partial<Omit<Task, "id" | "rev">>, options?: UpdateTaskOptions): Promise<Task | undefined> {
    // Check and change happen in one synchronous step: no other update can slip in between.
    const current = this.#open().data.tasks.get(id);
    if (current && options?.leaseOwner !== undefined && !leaseHeld(current, options.leaseOwner, Date.now())) return undefined;
    const next = revise(current, patch, options?.ifRev);
    if (!next) return undefined;
    const { value, written } = this.#commit({ t: "task", v: next });
    await written;
    return this.#copyOne("task", value.v);
  }

  async listTasks(filter?: TaskFilter, page?: PageRequest): Promise<Page<Task>> {
    const result = this.#open().listTasks(filter, page);
    return { ...result, items: result.items.flatMap((t) => this.#copy("task", t) ?? []) };
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
    return new Map([...(entries ?? [])].map(([k, v]) => [k, this.#copyOne("journal entry", { id: `${taskId}/${k}`, v })!.v]));
  }

  async appendJournal(taskId: string, key: string, entry: JournalEntry): Promise<void> {
    this.#open();
    await this.#commit({ t: "journal", task: taskId, key, v: entry }).written;
  }

  async getOutbox(taskId: string): Promise<Map<string, OutboxRecord>> {
    const records = this.#open().data.outbox.get(taskId);
    return new Map([...(records ?? [])].map(([k, v]) => [k, this.#copyOne("outbox record", { id: `${taskId}/${k}`, v })!.v]));
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
    return this.#copyOne("schedule", this.#open().data.schedules.get(id));
  }

  async updateSchedule(id: string, patch: Partial<Omit<Schedule, "id" | "rev">>, options?: { ifRev?: number }): Promise<Schedule | undefined> {
    const next = revise(this.#open().data.schedules.get(id), patch, options?.ifRev);
    if (!next) return undefined;
    const { value, written } = this.#commit({ t: "schedule", v: next });
    await written;
    return this.#copyOne("schedule", value.v);
  }

  async listSchedules(): Promise<Schedule[]> {
    const all = [...this.#open().data.schedules.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    return all.flatMap((s) => this.#copy("schedule", s) ?? []);
  }

  async deleteSchedule(id: string): Promise<void> {
    this.#open();
    await this.#commit({ t: "scheduleDel", k: id }).written;
  }
}

/** The kind of record a log record writes, for sentences. */
function kindOf(r: LogRecord): string {
  return r.t === "journal" ? "journal entry" : r.t === "outbox" ? "outbox record" : r.t;
}

/** The id of the record a log record writes, for sentences. */
function idOf(r: LogRecord): string {
  if (r.t === "journal" || r.t === "outbox") return `${r.task}/${r.key}`;
  if ("v" in r && typeof r.v === "object" && r.v !== null && "id" in r.v) return String(r.v.id);
  return "k" in r ? r.k : "";
}

/**
 * The default, file-based store (see the top of this file for the layout). Call `open()`
 * before use: it takes the directory lock (StoreLockedError if another live process holds
 * it) and loads the data (StoreCorruptError naming the file if a file can't be read).
 */
export function createLowdbStore(options: LowdbStoreOptions): Store {
  return new LowdbStore(options);
}
