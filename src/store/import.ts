/**
 * Putting records into a store verbatim, for copying one store into another (copy.ts):
 * unlike the Store port's writes, nothing is numbered, bumped or refused for existing, and
 * each call is idempotent, so a copy run twice changes nothing. Implemented by the
 * PostgreSQL store.
 */
import type { Message, Session } from "../model.ts";
import type { Store } from "./port.ts";
import type { FeedRecord, JournalEntry, OutboxRecord, Schedule, Task } from "./records.ts";

export interface StoreImport {
  /** Each session as given, replacing one with its id. */
  importSessions(sessions: Session[]): Promise<void>;
  /** The whole history of a session, oldest first: replaces what the store holds for it. */
  importMessages(sessionId: string, messages: Message[]): Promise<void>;
  /** Each task as given (rev and all), replacing one with its id. */
  importTasks(tasks: Task[]): Promise<void>;
  /** Journal entries of a task by key, replacing entries with the same key. */
  importJournal(taskId: string, entries: Map<string, JournalEntry>): Promise<void>;
  /** Outbox records of a task by key, replacing records with the same key. */
  importOutbox(taskId: string, records: Map<string, OutboxRecord>): Promise<void>;
  importSchedules(schedules: Schedule[]): Promise<void>;
  /** Feed events keeping their seq (replacing an event with the same seq); later appends number above them all. */
  importFeed(events: FeedRecord[]): Promise<void>;
}

/** Whether a store can take records verbatim (see StoreImport). */
export function hasStoreImport<S extends Store>(store: S): store is S & StoreImport {
  const s = store as Partial<StoreImport>;
  return typeof s.importSessions === "function" && typeof s.importFeed === "function";
}
