/**
 * Copies everything one store holds into another that takes records verbatim (StoreImport,
 * e.g. from the lowdb files to PostgreSQL): sessions in every state with their messages,
 * tasks in every status with their journal and outbox, schedules, and the whole feed with
 * its seqs. Inbound event keys are not copied (they only guard re-deliveries for a day).
 * Idempotent: a second run changes nothing. After copying, it reads the copied records back
 * from the target and throws a sentence if any count differs.
 *
 * Run it with no chatflow process using either store. Messages are copied per session: the
 * history of a session id that has no session record is not found.
 */
import { ChatflowError } from "../errors.ts";
import type { Session } from "../model.ts";
import type { StoreImport } from "./import.ts";
import type { Store } from "./port.ts";
import type { FeedRecord } from "./records.ts";

export interface CopyOptions {
  /** Records per page read from the source; default 500. */
  pageSize?: number;
  /** The longest history copied; a longer one stops the copy with a sentence. Default 1 000 000. */
  maxMessagesPerSession?: number;
  /** Told after each page, with the counts so far. */
  onProgress?: (counts: CopyCounts) => void;
}

export interface CopyCounts {
  sessions: number;
  messages: number;
  tasks: number;
  journal: number;
  outbox: number;
  schedules: number;
  feed: number;
}

export interface CopyResult extends CopyCounts {
  /**
   * Sessions copied as closed: the source had more than one open session for their key (a
   * target that keeps one open session per key refuses that); the most recently active one
   * stays open, as findOpenSession chose it.
   */
  closedDuplicates: string[];
}

const KINDS: Array<keyof CopyCounts> = ["sessions", "messages", "tasks", "journal", "outbox", "schedules", "feed"];

/** Every page of a cursor-paged listing. */
async function* pages<T>(list: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>): AsyncGenerator<T[]> {
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    yield page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** Every feed event, by pages. */
async function* feedPages(store: Store): AsyncGenerator<FeedRecord[]> {
  let after = 0;
  for (;;) {
    const page = await store.readFeed({}, { after, limit: 1000 });
    if (page.length === 0) return;
    yield page;
    after = page.at(-1)!.seq;
  }
}

/** Per key, the open sessions beyond the most recently active one. */
function extraOpen(sessions: Session[]): Set<string> {
  const byKey = new Map<string, Session[]>();
  for (const s of sessions) if (s.state !== "closed") byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const extra = new Set<string>();
  for (const open of byKey.values()) {
    open.sort((a, b) => b.lastActiveAt - a.lastActiveAt);
    for (const s of open.slice(1)) extra.add(s.id);
  }
  return extra;
}

export async function copyStore(from: Store, to: Store & StoreImport, options: CopyOptions = {}): Promise<CopyResult> {
  const limit = options.pageSize ?? 500;
  const maxMessages = options.maxMessagesPerSession ?? 1_000_000;
  const counts: CopyCounts = { sessions: 0, messages: 0, tasks: 0, journal: 0, outbox: 0, schedules: 0, feed: 0 };
  const progress = () => options.onProgress?.({ ...counts });

  // Sessions, read whole first: duplicates of an open key are found across pages.
  const sessions: Session[] = [];
  for await (const items of pages((cursor) => from.listSessions({}, { limit, ...(cursor ? { cursor } : {}) }))) sessions.push(...items);
  const duplicates = extraOpen(sessions);
  const messageCounts = new Map<string, number>();
  for (let i = 0; i < sessions.length; i += limit) {
    const part = sessions.slice(i, i + limit).map((s) => (duplicates.has(s.id) ? { ...s, state: "closed" as const, closedAt: s.closedAt ?? s.lastActiveAt } : s));
    await to.importSessions(part);
    for (const s of part) {
      const messages = await from.listMessages(s.id, maxMessages);
      if (messages.length >= maxMessages) {
        throw new ChatflowError("store", `The session ${s.id} has ${maxMessages} messages or more, the most copyStore copies (maxMessagesPerSession): raise it and copy again.`);
      }
      await to.importMessages(s.id, messages);
      messageCounts.set(s.id, messages.length);
      counts.messages += messages.length;
    }
    counts.sessions += part.length;
    progress();
  }

  const journalCounts = new Map<string, [journal: number, outbox: number]>();
  for await (const tasks of pages((cursor) => from.listTasks({}, { limit, ...(cursor ? { cursor } : {}) }))) {
    await to.importTasks(tasks);
    for (const t of tasks) {
      const journal = await from.getJournal(t.id);
      const outbox = await from.getOutbox(t.id);
      await to.importJournal(t.id, journal);
      await to.importOutbox(t.id, outbox);
      journalCounts.set(t.id, [journal.size, outbox.size]);
      counts.journal += journal.size;
      counts.outbox += outbox.size;
    }
    counts.tasks += tasks.length;
    progress();
  }

  const schedules = await from.listSchedules();
  await to.importSchedules(schedules);
  counts.schedules = schedules.length;

  const seqs = new Set<number>();
  for await (const events of feedPages(from)) {
    await to.importFeed(events);
    for (const e of events) seqs.add(e.seq);
    counts.feed += events.length;
    progress();
  }

  // Read back what was copied.
  const found: CopyCounts = { sessions: 0, messages: 0, tasks: 0, journal: 0, outbox: 0, schedules: 0, feed: 0 };
  for await (const items of pages((cursor) => to.listSessions({}, { limit, ...(cursor ? { cursor } : {}) }))) {
    for (const s of items) {
      const n = messageCounts.get(s.id);
      if (n === undefined) continue;
      found.sessions++;
      found.messages += Math.min(n, (await to.listMessages(s.id, maxMessages)).length);
    }
  }
  for await (const items of pages((cursor) => to.listTasks({}, { limit, ...(cursor ? { cursor } : {}) }))) {
    for (const t of items) {
      const n = journalCounts.get(t.id);
      if (n === undefined) continue;
      found.tasks++;
      found.journal += Math.min(n[0], (await to.getJournal(t.id)).size);
      found.outbox += Math.min(n[1], (await to.getOutbox(t.id)).size);
    }
  }
  const copiedSchedules = new Set(schedules.map((s) => s.id));
  found.schedules = (await to.listSchedules()).filter((s) => copiedSchedules.has(s.id)).length;
  for await (const events of feedPages(to)) found.feed += events.filter((e) => seqs.has(e.seq)).length;

  const short = KINDS.filter((k) => found[k] !== counts[k]);
  if (short.length > 0) {
    const list = short.map((k) => `${found[k]} of ${counts[k]} ${k}`).join(", ");
    throw new ChatflowError("store", `The copy is incomplete: reading the target back found ${list}. Nothing was removed from the source; run the copy again (it is idempotent).`);
  }
  return { ...counts, closedDuplicates: [...duplicates] };
}
