/**
 * StoreImport (src/store/import.ts) for PostgreSQL: upserts by id (sessions, tasks,
 * schedules), by task and key (journal, outbox), by seq (feed, then `feed_seq` moved past the
 * highest seq under the feed lock); a session's history is replaced whole in one transaction.
 */
import type { Message, Session } from "../../model.ts";
import type { StoreImport } from "../import.ts";
import type { FeedRecord, JournalEntry, OutboxRecord, Schedule, Task } from "../records.ts";
import { json, lockKey, type Db } from "./db.ts";
import { insertFeed } from "./feed.ts";

/** Rows per INSERT. */
const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export class StoreImporter implements StoreImport {
  constructor(private readonly db: Db) {}

  async #upsertById(table: string, records: Array<{ id: string }>, what: string): Promise<void> {
    for (const part of chunks(records)) {
      await this.db.query(
        `import ${part.length} ${what}`,
        `INSERT INTO ${table} (id, data) SELECT r->>'id', r FROM jsonb_array_elements($1::jsonb) AS x(r)
         ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`,
        [json(part)],
      );
    }
  }

  importSessions(sessions: Session[]): Promise<void> {
    return this.#upsertById(this.db.t.sessions, sessions, "sessions");
  }

  importTasks(tasks: Task[]): Promise<void> {
    return this.#upsertById(this.db.t.tasks, tasks, "tasks");
  }

  importSchedules(schedules: Schedule[]): Promise<void> {
    return this.#upsertById(this.db.t.schedules, schedules, "schedules");
  }

  async importMessages(sessionId: string, messages: Message[]): Promise<void> {
    const table = this.db.t.messages;
    await this.db.tx(`import the history of session ${sessionId}`, async (query) => {
      await query(`DELETE FROM ${table} WHERE session_id = $1`, [sessionId]);
      for (const part of chunks(messages)) {
        await query(
          `INSERT INTO ${table} (session_id, data) SELECT $1, m FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(m, i) ORDER BY i`,
          [sessionId, json(part)],
        );
      }
    });
  }

  importJournal(taskId: string, entries: Map<string, JournalEntry>): Promise<void> {
    return this.#keyed(this.db.t.journal, taskId, entries, `import the journal of task ${taskId}`);
  }

  importOutbox(taskId: string, records: Map<string, OutboxRecord>): Promise<void> {
    return this.#keyed(this.db.t.outbox, taskId, records, `import the outbox of task ${taskId}`);
  }

  async #keyed(table: string, taskId: string, entries: Map<string, unknown>, what: string): Promise<void> {
    const rows = [...entries].map(([key, data]) => ({ key, data }));
    for (const part of chunks(rows)) {
      await this.db.query(
        what,
        `INSERT INTO ${table} (task_id, key, data)
         SELECT $1, r->>'key', r->'data' FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(r, i) ORDER BY i
         ON CONFLICT (task_id, key) DO UPDATE SET data = EXCLUDED.data`,
        [taskId, json(part)],
      );
    }
  }

  async importFeed(events: FeedRecord[]): Promise<void> {
    if (events.length === 0) return;
    const t = this.db.t;
    const max = Math.max(...events.map((e) => e.seq));
    await this.db.tx(`import ${events.length} feed events`, async (query) => {
      await query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(this.db.schema, "feed")]);
      for (const part of chunks(events)) await insertFeed(query, t.feed, part, true);
      // Appends after this number above every imported event.
      await query(`SELECT setval('${t.feedSeq}', greatest($1::bigint, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ${t.feedSeq})), true)`, [max]);
    });
  }
}
