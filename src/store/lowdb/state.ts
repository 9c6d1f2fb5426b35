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
 *
 * A record of a known kind that can't be used (wrong shape, or nested deeper than
 * MAX_NESTING_BELOW_RECORD, which `structuredClone` and `JSON.stringify` can't take) is an
 * `UnusableRecord`: the store sets it aside at open instead of refusing to start (see
 * quarantine.ts). A line of an unknown kind is still corruption: it may come from a newer
 * version, and skipping it could lose a change.
 */
import type { Session } from "../../model.ts";
import type { Schedule } from "../records.ts";
import type { JournalEntry, OutboxRecord, Task } from "../records.ts";
import type { Page, PageRequest, SessionFilter, TaskFilter } from "../port.ts";
import { matchSession, matchTask, paginate, sessionOrder, taskOrder } from "../query.ts";
import { MAX_NESTING_BELOW_RECORD, tooDeepToStore } from "../json-depth.ts";

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

/** Where one record lives in the state: what quarantine removes and what an undo puts back. */
export type RecordRef =
  | { kind: "session" | "task" | "schedule" | "event"; id: string }
  | { kind: "journal" | "outbox"; task: string; key: string }
  /** All journal entries (or outbox records) of a task, as one Map: what a task delete removes. */
  | { kind: "journalAll" | "outboxAll"; task: string }
  | { kind: "feedSeq" };

/** A record of a known kind that can't be used: set aside at open (kind and id for the report), never fatal for the others. */
export class UnusableRecord extends Error {
  constructor(
    readonly kind: string,
    /** The record's id (task/key for journal and outbox entries), when it has a readable one. */
    readonly id: string | undefined,
    /** Where it would live in the state, when known: any older version there is set aside too. */
    readonly ref: RecordRef | undefined,
    reason: string,
  ) {
    super(reason);
  }
}

const TOO_DEEP = `it nests more than ${MAX_NESTING_BELOW_RECORD} levels deep (more than the store keeps)`;

/** Throws UnusableRecord unless `v` is a usable stored session, task or schedule. */
export function checkRecord(kind: "session" | "task" | "schedule", v: unknown): void {
  const id = isObject(v) && typeof v.id === "string" ? v.id : undefined;
  const ref: RecordRef | undefined = id === undefined ? undefined : { kind, id };
  const fail = (reason: string) => {
    throw new UnusableRecord(kind, id, ref, reason);
  };
  if (!isObject(v)) return fail(`not a ${kind} (not an object)`);
  if (kind === "session" && (typeof v.id !== "string" || typeof v.key !== "string" || typeof v.state !== "string" || typeof v.lastActiveAt !== "number")) {
    fail("not a session (needs id, key, state, lastActiveAt)");
  }
  if (kind === "task" && (typeof v.id !== "string" || typeof v.rev !== "number" || typeof v.status !== "string" || typeof v.createdAt !== "number")) {
    fail("not a task (needs id, rev, status, createdAt)");
  }
  if (kind === "schedule" && (typeof v.id !== "string" || typeof v.rev !== "number" || typeof v.cron !== "string" || !isObject(v.target))) {
    fail("not a schedule (needs id, rev, cron, target)");
  }
  if (tooDeepToStore(v)) fail(TOO_DEEP);
}

/** Throws UnusableRecord unless `v` is a usable journal entry or outbox record of `task`/`key`. */
export function checkEntry(kind: "journal" | "outbox", task: unknown, key: unknown, v: unknown): void {
  const ok = typeof task === "string" && typeof key === "string";
  const id = ok ? `${task}/${key}` : undefined;
  const ref: RecordRef | undefined = ok ? { kind, task, key } : undefined;
  if (!ok) throw new UnusableRecord(kind, id, ref, `not a ${kind} entry (needs a task id and a key)`);
  if (!isObject(v)) throw new UnusableRecord(kind, id, ref, `not a ${kind} entry (not an object)`);
  if (tooDeepToStore(v)) throw new UnusableRecord(kind, id, ref, TOO_DEEP);
}

/**
 * Validates one parsed log line. Throws UnusableRecord for a record of a known kind that
 * can't be used, and a plain Error (corruption) for anything else.
 */
export function toLogRecord(v: unknown): LogRecord {
  if (!isObject(v)) throw new Error("not an object");
  switch (v.t) {
    case "session":
    case "task":
    case "schedule":
      checkRecord(v.t, v.v);
      return v as LogRecord;
    case "journal":
    case "outbox":
      checkEntry(v.t, v.task, v.key, v.v);
      return v as LogRecord;
    case "taskDel":
    case "scheduleDel":
      if (typeof v.k === "string") return v as LogRecord;
      throw new UnusableRecord(v.t === "taskDel" ? "task delete" : "schedule delete", undefined, undefined, "needs the id to delete");
    case "event":
      if (typeof v.k === "string" && typeof v.x === "number") return v as LogRecord;
      throw new UnusableRecord("dedupe key", typeof v.k === "string" ? v.k : undefined, typeof v.k === "string" ? { kind: "event", id: v.k } : undefined, "needs a key and an expiry time");
    case "feedSeq":
      // Not a record anyone holds: the counter that keeps feed seqs from being reused.
      if (typeof v.v === "number" && Number.isSafeInteger(v.v) && v.v >= 0) return v as LogRecord;
      break;
  }
  throw new Error(`unknown or incomplete record (t=${JSON.stringify(v.t)})`);
}

/** The places a log record changes, for undoing it when its write fails (see undo.ts). */
export function refsOf(r: LogRecord): RecordRef[] {
  switch (r.t) {
    case "session":
    case "task":
    case "schedule":
      return [{ kind: r.t, id: r.v.id }];
    case "taskDel":
      return [{ kind: "task", id: r.k }, { kind: "journalAll", task: r.k }, { kind: "outboxAll", task: r.k }];
    case "scheduleDel":
      return [{ kind: "schedule", id: r.k }];
    case "journal":
    case "outbox":
      return [{ kind: r.t, task: r.task, key: r.key }];
    case "event":
      return [{ kind: "event", id: r.k }];
    case "feedSeq":
      return [{ kind: "feedSeq" }];
  }
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
  /**
   * The highest feed seq any applied `feedSeq` record (or the snapshot) named: what the open
   * checks compare with the MANIFEST's mark (a clean close may lower `data.feedSeq`).
   */
  feedSeqHigh: number;

  constructor(readonly data: StateData) {
    for (const s of data.sessions.values()) if (s.state !== "closed") addTo(this.#openByKey, s.key, s.id);
    for (const t of data.tasks.values()) addTo(this.#tasksBySession, t.sessionId, t.id);
    this.feedSeqHigh = data.feedSeq;
  }

  /** The value at `ref` (undefined when there is none). */
  get(ref: RecordRef): unknown {
    const d = this.data;
    switch (ref.kind) {
      case "session":
        return d.sessions.get(ref.id);
      case "task":
        return d.tasks.get(ref.id);
      case "schedule":
        return d.schedules.get(ref.id);
      case "event":
        return d.events.get(ref.id);
      case "journal":
      case "outbox":
        return (ref.kind === "journal" ? d.journal : d.outbox).get(ref.task)?.get(ref.key);
      case "journalAll":
        return d.journal.get(ref.task);
      case "outboxAll":
        return d.outbox.get(ref.task);
      case "feedSeq":
        return d.feedSeq;
    }
  }

  /** Puts `value` at `ref`, or removes what is there when it is undefined (indexes kept right). */
  set(ref: RecordRef, value: unknown): void {
    const d = this.data;
    if (value !== undefined) {
      switch (ref.kind) {
        case "session":
          return this.apply({ t: "session", v: value as Session });
        case "task":
          return this.apply({ t: "task", v: value as Task });
        case "schedule":
          return this.apply({ t: "schedule", v: value as Schedule });
        case "event":
          return this.apply({ t: "event", k: ref.id, x: value as number });
        case "journal":
          return this.apply({ t: "journal", task: ref.task, key: ref.key, v: value as JournalEntry });
        case "outbox":
          return this.apply({ t: "outbox", task: ref.task, key: ref.key, v: value as OutboxRecord });
        case "journalAll":
        case "outboxAll": {
          const byTask = (ref.kind === "journalAll" ? d.journal : d.outbox) as Map<string, Map<string, unknown>>;
          const current = byTask.get(ref.task);
          if (!current) byTask.set(ref.task, value as Map<string, unknown>);
          // Entries written since the map went keep their newer values.
          else for (const [k, v] of value as Map<string, unknown>) if (!current.has(k)) current.set(k, v);
          return;
        }
        case "feedSeq":
          d.feedSeq = value as number;
          return;
      }
    }
    switch (ref.kind) {
      case "session": {
        const old = d.sessions.get(ref.id);
        if (old && old.state !== "closed") removeFrom(this.#openByKey, old.key, old.id);
        d.sessions.delete(ref.id);
        return;
      }
      case "task": {
        const old = d.tasks.get(ref.id);
        if (old) removeFrom(this.#tasksBySession, old.sessionId, old.id);
        d.tasks.delete(ref.id);
        return;
      }
      case "schedule":
        d.schedules.delete(ref.id);
        return;
      case "event":
        d.events.delete(ref.id);
        return;
      case "journal":
      case "outbox": {
        const byTask = ref.kind === "journal" ? d.journal : d.outbox;
        const entries = byTask.get(ref.task);
        if (entries?.delete(ref.key) && entries.size === 0) byTask.delete(ref.task);
        return;
      }
      case "journalAll":
        d.journal.delete(ref.task);
        return;
      case "outboxAll":
        d.outbox.delete(ref.task);
        return;
      case "feedSeq":
        return;
    }
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
        if (r.v > this.feedSeqHigh) this.feedSeqHigh = r.v;
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
