import type { Message, Session, SessionState } from "../model.ts";
import type { Schedule } from "./records.ts";
import type { JournalEntry, OutboxRecord, Task, TaskStatus } from "./records.ts";

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
  /** Tasks that finished before this epoch ms. */
  finishedBefore?: number;
}

export interface PageRequest {
  /** Page size; default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when there are more items. */
  nextCursor?: string;
}

/**
 * Where chatflow keeps everything. Implementations: lowdb (default, files under `data/`)
 * and memory (tests). Every method resolves once the change is durable for that store
 * (for lowdb: written to the OS, so it survives the process being killed).
 * Values passed in and returned are copies: callers may not mutate store state.
 */
export interface Store {
  /** True when this store holds an exclusive lock on its data: no other process can run tasks on it. */
  readonly exclusive: boolean;
  open(): Promise<void>;
  /** Flushes pending writes and releases the lock. */
  close(): Promise<void>;

  createSession(session: Session): Promise<void>;
  getSession(id: string): Promise<Session | undefined>;
  /** The open (not closed) session with this key, if any. */
  findOpenSession(key: string): Promise<Session | undefined>;
  updateSession(id: string, patch: Partial<Omit<Session, "id">>): Promise<Session | undefined>;
  /** Newest activity first. */
  listSessions(filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>>;

  appendMessage(message: Message): Promise<void>;
  /** The last `limit` messages of a session, oldest first. */
  listMessages(sessionId: string, limit: number): Promise<Message[]>;

  createTask(task: Task): Promise<void>;
  getTask(id: string): Promise<Task | undefined>;
  /**
   * Applies `patch` and bumps `rev`. With `ifRev`, only when the stored rev is that one
   * (a conditional update); resolves `undefined` when the task is missing or the rev differs.
   */
  updateTask(id: string, patch: Partial<Omit<Task, "id" | "rev">>, options?: { ifRev?: number }): Promise<Task | undefined>;
  /** Newest first. */
  listTasks(filter?: TaskFilter, page?: PageRequest): Promise<Page<Task>>;
  /** Removes tasks with their journal and outbox. */
  deleteTasks(ids: string[]): Promise<void>;

  /** The journal of a task: key → entry. */
  getJournal(taskId: string): Promise<Map<string, JournalEntry>>;
  appendJournal(taskId: string, key: string, entry: JournalEntry): Promise<void>;

  getOutbox(taskId: string): Promise<Map<string, OutboxRecord>>;
  putOutbox(taskId: string, key: string, record: OutboxRecord): Promise<void>;

  /**
   * Records an inbound event id. Resolves true the first time a key is seen (until it
   * expires at `expiresAt`), false for a re-delivery.
   */
  claimEvent(key: string, expiresAt: number): Promise<boolean>;
  /** Whether an event key was claimed and has not expired (read-only). */
  hasEvent(key: string): Promise<boolean>;

  createSchedule(schedule: Schedule): Promise<void>;
  getSchedule(id: string): Promise<Schedule | undefined>;
  /** Like `updateTask`: bumps `rev`; with `ifRev`, only when the stored rev is that one. */
  updateSchedule(id: string, patch: Partial<Omit<Schedule, "id" | "rev">>, options?: { ifRev?: number }): Promise<Schedule | undefined>;
  /** Every schedule, oldest first. */
  listSchedules(): Promise<Schedule[]>;
  deleteSchedule(id: string): Promise<void>;
}
