/**
 * The in-memory store, for tests and for `store.driver: memory` (nothing survives a restart).
 * Same behaviour as the lowdb store (the contract suite in test/store runs against both),
 * kept deliberately simple: plain maps and scans, no indexes.
 */
import { ChatflowError } from "../errors.ts";
import type { Message, Session } from "../model.ts";
import type { Schedule } from "./records.ts";
import type { FeedRecord, JournalEntry, NewFeedRecord, OutboxRecord, Task } from "./records.ts";
import { tooDeepMessage, tooDeepToStore } from "./json-depth.ts";
import { feedLimit, feedMatcher, matchSession, matchTask, mergePatch, paginate, revise, sessionOrder, taskOrder } from "./query.ts";
import type { FeedFilter, FeedPageRequest, Page, PageRequest, SessionFilter, Store, TaskFilter, UpdateTaskOptions } from "./port.ts";
import { leaseHeld, openSessionConflict } from "./coordination.ts";

/** Copies in and out, so callers never alias store state. */
const copy = <T>(value: T): T => structuredClone(value);

/** Refuses what the lowdb store refuses (see json-depth.ts), so both behave the same. */
function bounded<T>(kind: string, id: string, value: T): T {
  if (tooDeepToStore(value)) throw new ChatflowError("validation", tooDeepMessage(kind, id));
  return value;
}

/** Freezes a value deeply, in place. */
function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}

/** A deep copy, frozen: for records that never change once stored. */
function frozenCopy<T>(value: T): T {
  return frozen(structuredClone(value));
}

class MemoryStore implements Store {
  /** Nothing stops a second process: there is no shared data to protect. */
  readonly exclusive = false;
  readonly #sessions = new Map<string, Session>();
  readonly #messages = new Map<string, Message[]>();
  readonly #tasks = new Map<string, Task>();
  readonly #journal = new Map<string, Map<string, JournalEntry>>();
  readonly #outbox = new Map<string, Map<string, OutboxRecord>>();
  /** dedupe key → expiresAt (epoch ms). */
  readonly #events = new Map<string, number>();
  readonly #schedules = new Map<string, Schedule>();
  /** Feed events, oldest (lowest seq) first. */
  #feed: FeedRecord[] = [];
  #feedSeq = 0;

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async createSession(session: Session): Promise<void> {
    if (this.#sessions.has(session.id)) throw new ChatflowError("store", `A session with id ${session.id} already exists.`);
    // Checked and set in one synchronous step: of two concurrent creates for a key, one wins.
    if (session.state !== "closed") {
      for (const s of this.#sessions.values()) {
        if (s.key === session.key && s.state !== "closed") throw new ChatflowError("conflict", openSessionConflict(session.key, s.id));
      }
    }
    this.#sessions.set(session.id, copy(bounded("session", session.id, session)));
  }

  async getSession(id: string): Promise<Session | undefined> {
    const s = this.#sessions.get(id);
    return s && copy(s);
  }

  async findOpenSession(key: string): Promise<Session | undefined> {
    let best: Session | undefined;
    for (const s of this.#sessions.values()) {
      if (s.key === key && s.state !== "closed" && (!best || s.lastActiveAt > best.lastActiveAt)) best = s;
    }
    return best && copy(best);
  }

  async updateSession(id: string, patch: Partial<Omit<Session, "id">>): Promise<Session | undefined> {
    const current = this.#sessions.get(id);
    if (!current) return undefined;
    const next = copy(bounded("session", id, mergePatch(current, patch, { id })));
    this.#sessions.set(id, next);
    return copy(next);
  }

  async listSessions(filter: SessionFilter = {}, page?: PageRequest): Promise<Page<Session>> {
    const matching = [...this.#sessions.values()].filter((s) => matchSession(s, filter));
    const result = paginate(matching, sessionOrder, page);
    return { ...result, items: result.items.map(copy) };
  }

  async appendMessage(message: Message): Promise<void> {
    const stored = frozenCopy(bounded("message", message.id, message));
    let list = this.#messages.get(message.sessionId);
    if (!list) this.#messages.set(message.sessionId, (list = []));
    list.push(stored);
  }

  /**
   * The stored messages themselves, frozen: history never changes once written, and copying
   * the window for every task (a structuredClone per message) was most of a busy bot's time.
   */
  async listMessages(sessionId: string, limit: number): Promise<Message[]> {
    const n = Math.floor(limit);
    if (!(n > 0)) return [];
    return (this.#messages.get(sessionId) ?? []).slice(-n);
  }

  async createTask(task: Task): Promise<void> {
    if (this.#tasks.has(task.id)) throw new ChatflowError("store", `A task with id ${task.id} already exists.`);
    this.#tasks.set(task.id, copy(bounded("task", task.id, task)));
  }

  async getTask(id: string): Promise<Task | undefined> {
    const t = this.#tasks.get(id);
    return t && copy(t);
  }

  async updateTask(id: string, patch: Partial<Omit<Task, "id" | "rev">>, options?: UpdateTaskOptions): Promise<Task | undefined> {
    const current = this.#tasks.get(id);
    if (current && options?.leaseOwner !== undefined && !leaseHeld(current, options.leaseOwner, Date.now())) return undefined;
    const next = revise(current, patch, options?.ifRev);
    if (!next) return undefined;
    this.#tasks.set(id, copy(bounded("task", id, next)));
    return copy(next);
  }

  async listTasks(filter: TaskFilter = {}, page?: PageRequest): Promise<Page<Task>> {
    const matching = [...this.#tasks.values()].filter((t) => matchTask(t, filter));
    const result = paginate(matching, taskOrder, page);
    return { ...result, items: result.items.map(copy) };
  }

  async deleteTasks(ids: string[]): Promise<void> {
    for (const id of ids) {
      this.#tasks.delete(id);
      this.#journal.delete(id);
      this.#outbox.delete(id);
    }
    const gone = new Set(ids);
    this.#feed = this.#feed.filter((e) => e.taskId === undefined || !gone.has(e.taskId));
  }

  async getJournal(taskId: string): Promise<Map<string, JournalEntry>> {
    return copy(this.#journal.get(taskId) ?? new Map<string, JournalEntry>());
  }

  async appendJournal(taskId: string, key: string, entry: JournalEntry): Promise<void> {
    let entries = this.#journal.get(taskId);
    if (!entries) this.#journal.set(taskId, (entries = new Map()));
    entries.set(key, copy(bounded("journal entry", `${taskId}/${key}`, entry)));
  }

  async getOutbox(taskId: string): Promise<Map<string, OutboxRecord>> {
    return copy(this.#outbox.get(taskId) ?? new Map<string, OutboxRecord>());
  }

  async putOutbox(taskId: string, key: string, record: OutboxRecord): Promise<void> {
    let records = this.#outbox.get(taskId);
    if (!records) this.#outbox.set(taskId, (records = new Map()));
    records.set(key, copy(bounded("outbox record", `${taskId}/${key}`, record)));
  }

  async claimEvent(key: string, expiresAt: number): Promise<boolean> {
    // Check and set in one synchronous step, so two concurrent claims can't both win.
    if (this.#has(key)) return false;
    this.#events.set(key, expiresAt);
    if (this.#events.size % 1024 === 0) this.#dropExpired();
    return true;
  }

  async hasEvent(key: string): Promise<boolean> {
    return this.#has(key);
  }

  #has(key: string): boolean {
    const expiresAt = this.#events.get(key);
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  /** Keeps a long-running memory store from growing with every event ever seen. */
  #dropExpired(): void {
    const now = Date.now();
    for (const [key, expiresAt] of this.#events) if (expiresAt <= now) this.#events.delete(key);
  }
  async appendFeedEvents(events: NewFeedRecord[]): Promise<FeedRecord[]> {
    // Numbered synchronously, at the call: the order of calls is the order of seqs.
    // Through JSON, as the lowdb store keeps them (an undefined property is no property).
    // Frozen, like history: an event never changes, so readers share the stored record.
    for (const e of events) bounded(`${e.type} event of session`, e.sessionId, e);
    const stored = events.map((e) => frozen(JSON.parse(JSON.stringify({ seq: ++this.#feedSeq, ...e })) as FeedRecord));
    this.#feed.push(...stored);
    return stored;
  }

  async readFeed(filter: FeedFilter = {}, page: FeedPageRequest = {}): Promise<FeedRecord[]> {
    const limit = feedLimit(page);
    const after = page.after ?? 0;
    const match = feedMatcher(filter);
    const out: FeedRecord[] = [];
    // Seqs ascend along the array: start at the first one past `after`.
    let lo = 0;
    let hi = this.#feed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#feed[mid]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#feed.length && out.length < limit; i++) {
      const e = this.#feed[i]!;
      if (match(e)) out.push(e);
    }
    return out;
  }

  async pruneFeed(options: { before: number }): Promise<number> {
    const before = this.#feed.length;
    this.#feed = this.#feed.filter((e) => e.at >= options.before);
    return before - this.#feed.length;
  }

  async createSchedule(schedule: Schedule): Promise<void> {
    if (this.#schedules.has(schedule.id)) throw new ChatflowError("store", `A schedule with id ${schedule.id} already exists.`);
    this.#schedules.set(schedule.id, copy(bounded("schedule", schedule.id, schedule)));
  }

  async getSchedule(id: string): Promise<Schedule | undefined> {
    const s = this.#schedules.get(id);
    return s && copy(s);
  }

  async updateSchedule(id: string, patch: Partial<Omit<Schedule, "id" | "rev">>, options?: { ifRev?: number }): Promise<Schedule | undefined> {
    const next = revise(this.#schedules.get(id), patch, options?.ifRev);
    if (!next) return undefined;
    this.#schedules.set(id, copy(bounded("schedule", id, next)));
    return copy(next);
  }

  async listSchedules(): Promise<Schedule[]> {
    return [...this.#schedules.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map(copy);
  }

  async deleteSchedule(id: string): Promise<void> {
    this.#schedules.delete(id);
  }
}

/** A store that keeps everything in memory; `open`/`close` do nothing. */
export function createMemoryStore(): Store {
  return new MemoryStore();
}
