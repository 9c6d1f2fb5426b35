import type { Message, Session, SessionState } from "../model.ts";
import type { Schedule } from "./records.ts";
import type { FeedRecord, JournalEntry, NewFeedRecord, OutboxRecord, Task, TaskStatus } from "./records.ts";

export interface SessionFilter {
  platform?: string;
  /** Owner user id. */
  user?: string;
  state?: SessionState | SessionState[];
  /** Sessions last active at or after this epoch ms. */
  activeAfter?: number;
  /** Sessions last active before this epoch ms. */
  activeBefore?: number;
}

export interface TaskFilter {
  status?: TaskStatus | TaskStatus[];
  sessionId?: string;
  /** The user who started the task. */
  owner?: string;
  workflow?: string;
  /** Tasks that finished before this epoch ms. */
  finishedBefore?: number;
  /** Tasks that finished at or after this epoch ms. */
  finishedAfter?: number;
  /** Tasks last changed at or after this epoch ms (`updatedAt`). */
  updatedAfter?: number;
}

/** Which feed events to read: all conditions given must hold; none given means every event. */
export interface FeedFilter {
  sessionId?: string;
  /** Events of any of these sessions (together with `sessionId`, of any of them all). */
  sessionIds?: string[];
  taskId?: string;
}

export interface FeedPageRequest {
  /** Only events with a larger seq; default 0 (from the start). */
  after?: number;
  /** At most this many; default 100, at most 1000. */
  limit?: number;
}

export interface PageRequest {
  /** Page size; default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
  /** Items to skip (for clients that page by offset; a cursor doesn't shift when records are added, an offset may). Ignored with `cursor`. */
  offset?: number;
}

/** Conditions of `Store.updateTask`. */
export interface UpdateTaskOptions {
  /** Only when the stored rev is this one. */
  ifRev?: number;
  /** Only while the task's lease is this owner's and not expired on the store's clock. */
  leaseOwner?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when there are more items. */
  nextCursor?: string;
}

/**
 * Where chatflow keeps everything. Implementations: lowdb (default, files under `data/`),
 * memory (tests) and PostgreSQL (src/store/postgres/, shared by any number of processes).
 * Every method resolves once the change is durable for that store (for lowdb: written to
 * the OS, so it survives the process being killed; for PostgreSQL: committed).
 * Values passed in and returned are copies: callers may not mutate store state.
 *
 * A write fails with a ChatflowError: code `validation` for a record nested more than
 * MAX_NESTING_BELOW_RECORD (64) levels below its top level (see json-depth.ts), code `store`
 * with a sentence naming the file and the OS error code when the data could not be written.
 * A write that failed changed nothing: reads don't return it.
 */
export interface Store {
  /** True when this store holds an exclusive lock on its data: no other process can run tasks on it. */
  readonly exclusive: boolean;
  open(): Promise<void>;
  /** Flushes pending writes and releases the lock. */
  close(): Promise<void>;
  /**
   * Whether writes currently work. `ok: false` while the last write to some place (the state
   * log, history, feed, snapshot) failed and no later write to the same place succeeded;
   * `error` is that failure's sentence (it names the file and the OS error code). Optional:
   * stores that can't fail to write (memory) leave it out. For health checks (`/healthz`).
   */
  health?(): { ok: boolean; error?: string };

  /**
   * Stores a new session. Rejects with a ChatflowError, storing nothing: code `store` when a
   * session with that id exists; code `conflict` when the key already has an open session
   * (state other than `closed`): one open session per key, also across processes sharing a store.
   */
  createSession(session: Session): Promise<void>;
  getSession(id: string): Promise<Session | undefined>;
  /** The open (not closed) session with this key, if any. */
  findOpenSession(key: string): Promise<Session | undefined>;
  /** Merges `patch` (an `undefined` value removes the field). PostgreSQL also refuses (code `conflict`) to reopen a session whose key has another open one. */
  updateSession(id: string, patch: Partial<Omit<Session, "id">>): Promise<Session | undefined>;
  /** Newest activity first. */
  listSessions(filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>>;

  appendMessage(message: Message): Promise<void>;
  /** The last `limit` messages of a session, oldest first, in a new array; the messages are read-only (a store may hand out its frozen records). */
  listMessages(sessionId: string, limit: number): Promise<Message[]>;

  createTask(task: Task): Promise<void>;
  getTask(id: string): Promise<Task | undefined>;
  /**
   * Applies `patch` and bumps `rev`. With `ifRev`, only when the stored rev is that one
   * (a conditional update); resolves `undefined` when the task is missing or the rev differs.
   * With `leaseOwner`, only while the task's lease is held by that owner and has not expired
   * on the store's clock (the process clock for memory and lowdb, the database clock for
   * PostgreSQL); resolves `undefined` otherwise. Both conditions may be given together.
   */
  updateTask(id: string, patch: Partial<Omit<Task, "id" | "rev">>, options?: UpdateTaskOptions): Promise<Task | undefined>;
  /** Newest first. */
  listTasks(filter?: TaskFilter, page?: PageRequest): Promise<Page<Task>>;
  /** Removes tasks with their journal, outbox and feed events. */
  deleteTasks(ids: string[]): Promise<void>;

  /** The journal of a task: key → entry. */
  getJournal(taskId: string): Promise<Map<string, JournalEntry>>;
  /**
   * With `leaseOwner` (stores several processes share): stored only while that owner holds the
   * task's lease on the store's clock, else rejected with a ChatflowError, code `conflict`, and
   * nothing stored: a run that lost its task to another process can't write its journal. Stores
   * one process holds alone (memory, lowdb) need no fence and ignore it.
   */
  appendJournal(taskId: string, key: string, entry: JournalEntry, options?: { leaseOwner?: string }): Promise<void>;

  getOutbox(taskId: string): Promise<Map<string, OutboxRecord>>;
  putOutbox(taskId: string, key: string, record: OutboxRecord): Promise<void>;

  /**
   * Records an inbound event id. Resolves true the first time a key is seen (until it
   * expires at `expiresAt`), false for a re-delivery.
   */
  claimEvent(key: string, expiresAt: number): Promise<boolean>;
  /** Whether an event key was claimed and has not expired (read-only). */
  hasEvent(key: string): Promise<boolean>;

  /**
   * Appends events to the feed, numbering them: each gets the next `seq`, assigned when the
   * call is made (so two calls made one after the other number in that order, even unawaited);
   * resolves with the stored events once they are durable. Seqs strictly increase across the
   * store's life, restarts and crashes included; they are never reused, and may have gaps.
   * Returned and read events are read-only (a store may hand out its frozen records).
   */
  appendFeedEvents(events: NewFeedRecord[]): Promise<FeedRecord[]>;
  /**
   * Events matching `filter` with seq > `after`, oldest first. Reads are prefix-consistent:
   * an event is returned only once every event numbered before it is durable (or failed for
   * good), so paging on with `after` = the last seq seen never skips one written late.
   */
  readFeed(filter?: FeedFilter, page?: FeedPageRequest): Promise<FeedRecord[]>;
  /** Removes feed events older than `before` (epoch ms); resolves how many went. */
  pruneFeed(options: { before: number }): Promise<number>;
  /**
   * Optional: calls `listener` with the highest seq appended when events were appended to the
   * feed, by this store object or by another process sharing the store (PostgreSQL: LISTEN /
   * NOTIFY). A hint to read on with `readFeed({ after })`, not a delivery: calls may be
   * coalesced, and the listener is also called (with the current highest seq) once the watch
   * is set up and after a lost connection came back, so a reader catches up on what it may
   * have missed. Resolves nothing; returns the function that stops the listener. Stores used
   * by one process only (memory, lowdb) leave it out. `events`, when given, are the events of
   * the append that ends at `lastSeq`, in seq order (PostgreSQL sends a small append's events
   * with its NOTIFY): a reader whose tail they continue may take them without a read.
   */
  watchFeed?(listener: (lastSeq: number, events?: FeedRecord[]) => void): () => void;
  /** Optional, with `watchFeed`: the highest seq appended so far (0 for an empty feed), where a live reader starts. */
  feedHead?(): Promise<number>;

  createSchedule(schedule: Schedule): Promise<void>;
  getSchedule(id: string): Promise<Schedule | undefined>;
  /** Like `updateTask`: bumps `rev`; with `ifRev`, only when the stored rev is that one. */
  updateSchedule(id: string, patch: Partial<Omit<Schedule, "id" | "rev">>, options?: { ifRev?: number }): Promise<Schedule | undefined>;
  /** Every schedule, oldest first. */
  listSchedules(): Promise<Schedule[]>;
  deleteSchedule(id: string): Promise<void>;
}
