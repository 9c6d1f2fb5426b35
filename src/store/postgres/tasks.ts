/**
 * Tasks with their journal and outbox, and the dedupe keys of inbound events. Updates are one
 * conditional UPDATE each (`WHERE id = $1 AND rev = $2 …`): atomic across processes; within
 * this process, writes to one record keep their call order (KeyedSerial).
 */
import { ChatflowError } from "../../errors.ts";
import type { JournalEntry, OutboxRecord, Task } from "../records.ts";
import type { Page, PageRequest, TaskFilter, UpdateTaskOptions } from "../port.ts";
import { bounded, json, NOW_MS, splitPatch, type Db } from "./db.ts";
import { pgCode } from "./errors.ts";
import { Conditions, pageOf } from "./paging.ts";
import type { KeyedSerial } from "./serial.ts";

/**
 * The SQL of a revised record: the patch merged (an `undefined` value removes the field),
 * `id` kept, `rev` + 1, and `updatedAt` bumped to `$now` when the record has one and the
 * patch does not set it: what revise() in src/store/query.ts does in memory.
 * Parameters: $2 the set part, $3 the removed keys, $4 the updatedAt to apply ('{}' for none).
 */
export const REVISED = `((data || $2::jsonb) - $3::text[]) || jsonb_build_object('id', id, 'rev', (data->>'rev')::float8 + 1)
  || CASE WHEN data ? 'updatedAt' THEN $4::jsonb ELSE '{}'::jsonb END`;

/** The parameters $2-$4 of REVISED for a patch. */
export function revisedParams(kind: string, id: string, patch: object): [string, string[], string] {
  const { set, remove } = splitPatch(patch, ["id", "rev"]);
  const touched = "updatedAt" in patch ? {} : { updatedAt: Date.now() };
  return [json(bounded(kind, id, set)), remove, json(touched)];
}

export class Tasks {
  #claims = 0;

  constructor(
    private readonly db: Db,
    private readonly serial: KeyedSerial,
  ) {}

  create(task: Task): Promise<void> {
    const data = json(bounded("task", task.id, task));
    return this.serial.run(`task:${task.id}`, async () => {
      try {
        await this.db.query(`store the task ${task.id}`, `INSERT INTO ${this.db.t.tasks} (id, data) VALUES ($1, $2)`, [task.id, data]);
      } catch (error) {
        if (pgCode(error) === "23505") throw new ChatflowError("store", `A task with id ${task.id} already exists.`, { cause: error });
        throw error;
      }
    });
  }

  async get(id: string): Promise<Task | undefined> {
    const { rows } = await this.db.query<{ data: Task }>(`read the task ${id}`, `SELECT data FROM ${this.db.t.tasks} WHERE id = $1`, [id]);
    return rows[0]?.data;
  }

  update(id: string, patch: Partial<Omit<Task, "id" | "rev">>, options: UpdateTaskOptions = {}): Promise<Task | undefined> {
    const params: unknown[] = [id, ...revisedParams("task", id, patch)];
    const conditions: string[] = [];
    if (options.ifRev !== undefined) {
      params.push(options.ifRev);
      conditions.push(`rev = $${params.length}`);
    }
    if (options.leaseOwner !== undefined) {
      params.push(options.leaseOwner);
      conditions.push(`lease_owner = $${params.length} AND lease_until > ${NOW_MS}`);
    }
    const sql = `UPDATE ${this.db.t.tasks} SET data = ${REVISED} WHERE id = $1${conditions.map((c) => ` AND ${c}`).join("")} RETURNING data`;
    return this.serial.run(`task:${id}`, async () => (await this.db.query<{ data: Task }>(`update the task ${id}`, sql, params)).rows[0]?.data);
  }

  async list(filter: TaskFilter = {}, page?: PageRequest): Promise<Page<Task>> {
    const where = new Conditions();
    where.oneOf("status", filter.status);
    if (filter.sessionId !== undefined) where.add("session_id = $?", filter.sessionId);
    if (filter.owner !== undefined) where.add("owner = $?", filter.owner);
    if (filter.workflow !== undefined) where.add("workflow = $?", filter.workflow);
    if (filter.finishedBefore !== undefined) where.add("finished_at < $?", filter.finishedBefore);
    if (filter.finishedAfter !== undefined) where.add("finished_at >= $?", filter.finishedAfter);
    if (filter.updatedAfter !== undefined) where.add("updated_at >= $?", filter.updatedAfter);
    const run = async (sql: string, params: unknown[]) => (await this.db.query<{ data: Task; t: number; id: string }>("list tasks", sql, params)).rows;
    return pageOf(run, this.db.t.tasks, "created_at", where, page);
  }

  /** Removes tasks with their journal, outbox and feed events, in one transaction. */
  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const t = this.db.t;
    await this.db.tx(`remove ${ids.length} task(s)`, async (query) => {
      await query(`DELETE FROM ${t.tasks} WHERE id = ANY($1::text[])`, [ids]);
      for (const table of [t.journal, t.outbox, t.feed]) await query(`DELETE FROM ${table} WHERE task_id = ANY($1::text[])`, [ids]);
    });
  }

  async getJournal(taskId: string): Promise<Map<string, JournalEntry>> {
    return this.#entries<JournalEntry>(this.db.t.journal, taskId, `read the journal of task ${taskId}`);
  }

  appendJournal(taskId: string, key: string, entry: JournalEntry, options: { leaseOwner?: string } = {}): Promise<void> {
    const data = json(bounded("journal entry", `${taskId}/${key}`, entry));
    const what = `store the journal entry ${taskId}/${key}`;
    if (options.leaseOwner === undefined) return this.#put(this.db.t.journal, taskId, key, data, what);
    const t = this.db.t;
    return this.serial.run(`${t.journal}:${taskId}/${key}`, async () => {
      const { rowCount } = await this.db.query(
        what,
        `INSERT INTO ${t.journal} (task_id, key, data)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM ${t.tasks} WHERE id = $1 AND lease_owner = $4 AND lease_until > ${NOW_MS})
         ON CONFLICT (task_id, key) DO UPDATE SET data = EXCLUDED.data`,
        [taskId, key, data, options.leaseOwner],
      );
      if (!rowCount) throw new ChatflowError("conflict", `The journal entry ${taskId}/${key} was not stored: ${options.leaseOwner} no longer holds the task's lease.`);
    });
  }

  async getOutbox(taskId: string): Promise<Map<string, OutboxRecord>> {
    return this.#entries<OutboxRecord>(this.db.t.outbox, taskId, `read the outbox of task ${taskId}`);
  }

  putOutbox(taskId: string, key: string, record: OutboxRecord): Promise<void> {
    return this.#put(this.db.t.outbox, taskId, key, json(bounded("outbox record", `${taskId}/${key}`, record)), `store the outbox record ${taskId}/${key}`);
  }

  async #entries<T>(table: string, taskId: string, what: string): Promise<Map<string, T>> {
    const { rows } = await this.db.query<{ key: string; data: T }>(what, `SELECT key, data FROM ${table} WHERE task_id = $1 ORDER BY n`, [taskId]);
    return new Map(rows.map((r) => [r.key, r.data]));
  }

  /** Sets a keyed entry (a second put of a key replaces it, keeping its place). */
  #put(table: string, taskId: string, key: string, data: string, what: string): Promise<void> {
    return this.serial.run(`${table}:${taskId}/${key}`, async () => {
      await this.db.query(what, `INSERT INTO ${table} (task_id, key, data) VALUES ($1, $2, $3) ON CONFLICT (task_id, key) DO UPDATE SET data = EXCLUDED.data`, [taskId, key, data]);
    });
  }

  /**
   * True the first time a key is claimed until it expires: one statement, so of concurrent
   * claims (from any process) exactly one inserts or revives the row. Expiry is on the
   * caller's clock, as `expiresAt` is.
   */
  async claimEvent(key: string, expiresAt: number): Promise<boolean> {
    const t = this.db.t;
    const { rowCount } = await this.db.query(
      "record an inbound event",
      `INSERT INTO ${t.events} (key, expires_at) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE ${t.events}.expires_at <= $3
       RETURNING 1`,
      [key, expiresAt, Date.now()],
    );
    // Now and then, the keys that expired go (they would only be revived by a claim).
    if (++this.#claims % 1024 === 0) await this.db.query("drop expired event keys", `DELETE FROM ${t.events} WHERE expires_at <= $1`, [Date.now()]).catch(() => undefined);
    return rowCount === 1;
  }

  async hasEvent(key: string): Promise<boolean> {
    const { rowCount } = await this.db.query("look up an inbound event", `SELECT 1 FROM ${this.db.t.events} WHERE key = $1 AND expires_at > $2`, [key, Date.now()]);
    return rowCount === 1;
  }
}
