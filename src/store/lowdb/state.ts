/**
 * The in-memory main state of the lowdb store (sessions, tasks, journal, outbox, dedupe
 * keys), its indexes, and the log record format that changes it.
 *
 * Every change, live or replayed from `state.log`, goes through `State.apply(record)`, so a
 * replay after a crash rebuilds exactly what the running process had. Records are full
 * upserts or deletes of one record: applying a log twice gives the same state (idempotent),
 * which is what makes compaction crash-safe.
 *
 * Stored objects are never mutated in place: an update replaces the object. Compaction
 * relies on this to serialize live maps while changes continue.
 */
import type { Session } from "../../model.ts";
import type { Schedule } from "../records.ts";
import type { JournalEntry, OutboxRecord, Task } from "../records.ts";
import type { Page, PageRequest, SessionFilter, TaskFilter } from "../port.ts";
import { matchSession, matchTask, paginate, sessionOrder, taskOrder } from "../query.ts";

/** One line of `state.log`. */
export type LogRecord =
  | { t: "session"; v: Session }
  | { t: "task"; v: Task }
  /** Deletes a task with its journal and outbox. */
  | { t: "taskDel"; k: string }
  | { t: "journal"; task: string; key: string; v: JournalEntry }
  | { t: "outbox"; task: string; key: string; v: OutboxRecord }
  /** A dedupe key and when it expires (epoch ms). */
  | { t: "event"; k: string; x: number }
  | { t: "schedule"; v: Schedule }
  /** The highest feed seq that may be in use (a reservation, or the exact last seq at close). */
  | { t: "feedSeq"; v: number }
  | { t: "scheduleDel"; k: string };

export interface StateData {
  sessions: Map<string, Session>;
  tasks: Map<string, Task>;
  /** taskId → key → entry. */
  journal: Map<string, Map<string, JournalEntry>>;
  /** taskId → key → record. */
  outbox: Map<string, Map<string, OutboxRecord>>;
  /** dedupe key → expiresAt (epoch ms). */
  events: Map<string, number>;
  schedules: Map<string, Schedule>;
  /** The highest feed seq that may be in use; the next open numbers above it (see feed.ts). */
  feedSeq: number;
}

export function emptyState(): StateData {
  return { sessions: new Map(), tasks: new Map(), journal: new Map(), outbox: new Map(), events: new Map(), schedules: new Map(), feedSeq: 0 };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Throws (with what is wrong) unless `v` looks like a stored session. */
export function checkSession(v: unknown): asserts v is Session {
  if (!isObject(v) || typeof v.id !== "string" || typeof v.key !== "string" || typeof v.state !== "string" || typeof v.lastActiveAt !== "number") {
    throw new Error("not a session (needs id, key, state, lastActiveAt)");
  }
}

/** Throws unless `v` looks like a stored task. */
export function checkTask(v: unknown): asserts v is Task {
  if (!isObject(v) || typeof v.id !== "string" || typeof v.rev !== "number" || typeof v.status !== "string" || typeof v.createdAt !== "number") {
    throw new Error("not a task (needs id, rev, status, createdAt)");
  }
}

/** Throws unless `v` looks like a stored schedule. */
export function checkSchedule(v: unknown): asserts v is Schedule {
  if (!isObject(v) || typeof v.id !== "string" || typeof v.rev !== "number" || typeof v.cron !== "string" || !isObject(v.target)) {
    throw new Error("not a schedule (needs id, rev, cron, target)");
  }
}

/** Validates one parsed log line; throws with the reason when it isn't a record. */
export function toLogRecord(v: unknown): LogRecord {
  if (!isObject(v)) throw new Error("not an object");
  switch (v.t) {
    case "session":
      checkSession(v.v);
      return v as LogRecord;
    case "task":
      checkTask(v.v);
      return v as LogRecord;
    case "taskDel":
      if (typeof v.k === "string") return v as LogRecord;
      break;
    case "journal":
    case "outbox":
      if (typeof v.task === "string" && typeof v.key === "string" && isObject(v.v)) return v as LogRecord;
      break;
    case "event":
      if (typeof v.k === "string" && typeof v.x === "number") return v as LogRecord;
      break;
    case "schedule":
      checkSchedule(v.v);
      return v as LogRecord;
    case "scheduleDel":
      if (typeof v.k === "string") return v as LogRecord;
      break;
    case "feedSeq":
      if (typeof v.v === "number" && Number.isSafeInteger(v.v) && v.v >= 0) return v as LogRecord;
      break;
  }
  throw new Error(`unknown or incomplete record (t=${JSON.stringify(v.t)})`);
}

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set?.delete(value) && set.size === 0) index.delete(key);
}

/** The state plus the indexes that keep the hot paths off full scans. */
export class State {
  /** session key → ids of open (not closed) sessions with that key; normally one. */
  readonly #openByKey = new Map<string, Set<string>>();
  /** sessionId → task ids. */
  readonly #tasksBySession = new Map<string, Set<string>>();

  constructor(readonly data: StateData) {
    for (const s of data.sessions.values()) if (s.state !== "closed") addTo(this.#openByKey, s.key, s.id);
    for (const t of data.tasks.values()) addTo(this.#tasksBySession, t.sessionId, t.id);
  }

  /** Applies one change. `r` must be a private object: it is stored as is. */
  apply(r: LogRecord): void {
    const d = this.data;
    switch (r.t) {
      case "session": {
        const old = d.sessions.get(r.v.id);
        if (old && old.state !== "closed") removeFrom(this.#openByKey, old.key, old.id);
        d.sessions.set(r.v.id, r.v);
        if (r.v.state !== "closed") addTo(this.#openByKey, r.v.key, r.v.id);
        break;
      }
      case "task": {
        const old = d.tasks.get(r.v.id);
        if (old) removeFrom(this.#tasksBySession, old.sessionId, old.id);
        d.tasks.set(r.v.id, r.v);
        addTo(this.#tasksBySession, r.v.sessionId, r.v.id);
        break;
      }
      case "taskDel": {
        const old = d.tasks.get(r.k);
        if (old) removeFrom(this.#tasksBySession, old.sessionId, old.id);
        d.tasks.delete(r.k);
        d.journal.delete(r.k);
        d.outbox.delete(r.k);
        break;
      }
      case "journal":
      case "outbox": {
        const byTask = r.t === "journal" ? d.journal : d.outbox;
        let entries = byTask.get(r.task) as Map<string, unknown> | undefined;
        if (!entries) byTask.set(r.task, (entries = new Map()) as never);
        entries.set(r.key, r.v);
        break;
      }
      case "event":
        d.events.set(r.k, r.x);
        break;
      case "schedule":
        d.schedules.set(r.v.id, r.v);
        break;
      case "scheduleDel":
        d.schedules.delete(r.k);
        break;
      case "feedSeq":
        // The last record wins: a clean close may lower a reservation to the exact last seq.
        d.feedSeq = r.v;
        break;
    }
  }

  findOpenSession(key: string): Session | undefined {
    const ids = this.#openByKey.get(key);
    if (!ids) return undefined;
    let best: Session | undefined;
    // Normally one id; if the engine ever opened two, the most recently active wins.
    for (const id of ids) {
      const s = this.data.sessions.get(id);
      if (s && (!best || s.lastActiveAt > best.lastActiveAt)) best = s;
    }
    return best;
  }

  listSessions(filter: SessionFilter = {}, page?: PageRequest): Page<Session> {
    const items: Session[] = [];
    for (const s of this.data.sessions.values()) if (matchSession(s, filter)) items.push(s);
    return paginate(items, sessionOrder, page);
  }

  listTasks(filter: TaskFilter = {}, page?: PageRequest): Page<Task> {
    const items: Task[] = [];
    if (filter.sessionId !== undefined) {
      for (const id of this.#tasksBySession.get(filter.sessionId) ?? []) {
        const t = this.data.tasks.get(id);
        if (t && matchTask(t, filter)) items.push(t);
      }
    } else {
      for (const t of this.data.tasks.values()) if (matchTask(t, filter)) items.push(t);
    }
    return paginate(items, taskOrder, page);
  }
}
