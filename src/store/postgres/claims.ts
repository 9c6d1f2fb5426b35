/**
 * Task claims for several processes sharing the database (TaskClaims, src/store/coordination.ts).
 *
 * claimTasks is one READ COMMITTED transaction:
 *  1. candidates, without locks: per session the oldest task that may run (a `queued` task of
 *     a session with no other task running or waiting, or a `running` task whose lease
 *     expired on the database clock while no other task of its session holds a live lease);
 *  2. those rows locked `FOR UPDATE SKIP LOCKED` (rows another claimer holds are skipped; the
 *     lock re-checks the row's own conditions against its latest version);
 *  3. a transaction-scoped advisory lock per session, taken with `pg_try_advisory_xact_lock`
 *     (another claimer working on the session makes us skip it: no waiting, no deadlock);
 *  4. with the session locks held, a new statement (a new snapshot) checks again that no other
 *     task of the session is running or waiting: a claimer that took the session before us
 *     committed before releasing its lock, so its claim is visible here;
 *  5. one UPDATE sets the winners running with a lease on the database clock.
 * Hence two claimers never take one task, nor two tasks of one session. (A unique index on
 * the session of running/waiting tasks would also guarantee it, but would make ordinary
 * updateTask calls fail where the other stores accept them.)
 */
import { createHash } from "node:crypto";
import type { Task } from "../records.ts";
import { NOW_MS, type Db } from "./db.ts";

/** The first int4 key of the advisory locks claimers take on a schema's sessions (the second is hashtext(session id)). */
export function sessionLockClass(schema: string): number {
  return createHash("sha256").update(`chatflow:${schema}:session`).digest().readInt32BE(0);
}

export class Claims {
  readonly #sessionLockClass: number;

  constructor(private readonly db: Db) {
    this.#sessionLockClass = sessionLockClass(db.schema);
  }

  async dbNow(): Promise<number> {
    const { rows } = await this.db.query<{ now: number }>("read the database clock", `SELECT ${NOW_MS} AS now`);
    return rows[0]!.now;
  }

  async claimTasks(owner: string, leaseMs: number, limit: number): Promise<Task[]> {
    const n = Math.floor(limit);
    if (!(n > 0)) return [];
    const t = this.db.t;
    return this.db.tx("claim tasks", async (query) => {
      const now = (await query<{ now: number }>(`SELECT ${NOW_MS} AS now`)).rows[0]!.now;
      const busy = (task: string) => `EXISTS (SELECT 1 FROM ${t.tasks} o WHERE o.session_id = ${task}.session_id AND o.id <> ${task}.id AND
        CASE WHEN ${task}.status = 'queued' THEN o.status IN ('running', 'waiting') ELSE o.status = 'running' AND o.lease_until > $1 END)`;
      const runnable = `(status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until <= $1)))`;
      const candidates = await query<{ id: string }>(
        `SELECT id FROM (
           SELECT DISTINCT ON (session_id) id, created_at FROM ${t.tasks} c
           WHERE ${runnable} AND NOT ${busy("c")}
           ORDER BY session_id, created_at, id
         ) oldest ORDER BY created_at, id LIMIT $2`,
        [now, n * 2 + 4],
      );
      if (candidates.rows.length === 0) return [];
      const locked = await query<{ id: string; session_id: string; status: string }>(
        `SELECT id, session_id, status FROM ${t.tasks} WHERE id = ANY($2::text[]) AND ${runnable} ORDER BY created_at, id FOR UPDATE SKIP LOCKED`,
        [now, candidates.rows.map((r) => r.id)],
      );
      if (locked.rows.length === 0) return [];
      const sessions = [...new Set(locked.rows.map((r) => r.session_id))];
      const got = await query<{ s: string }>(`SELECT s FROM unnest($1::text[]) AS x(s) WHERE pg_try_advisory_xact_lock($2::int, hashtext(s))`, [sessions, this.#sessionLockClass]);
      const ours = new Set(got.rows.map((r) => r.s));
      const mine = locked.rows.filter((r) => ours.has(r.session_id));
      if (mine.length === 0) return [];
      const free = await query<{ id: string }>(
        `SELECT c.id FROM unnest($2::text[], $3::text[], $4::text[]) AS c(id, session_id, status) WHERE NOT ${busy("c")}`,
        [now, mine.map((r) => r.id), mine.map((r) => r.session_id), mine.map((r) => r.status)],
      );
      const freeIds = new Set(free.rows.map((r) => r.id));
      const winners: string[] = [];
      const taken = new Set<string>();
      for (const r of mine) {
        if (winners.length >= n || !freeIds.has(r.id) || taken.has(r.session_id)) continue;
        winners.push(r.id);
        taken.add(r.session_id);
      }
      if (winners.length === 0) return [];
      const { rows } = await query<{ data: Task }>(
        `UPDATE ${t.tasks} SET data = data
           || jsonb_build_object('status', 'running', 'lease', jsonb_build_object('owner', $2::text, 'until', $1::float8 + $3::float8),
                'attempts', coalesce((data->>'attempts')::float8, 0) + 1, 'rev', rev + 1, 'updatedAt', $1::float8)
           || CASE WHEN data ? 'startedAt' THEN '{}'::jsonb ELSE jsonb_build_object('startedAt', $1::float8) END
         WHERE id = ANY($4::text[]) RETURNING data`,
        [now, owner, leaseMs, winners],
      );
      const order = new Map(winners.map((id, i) => [id, i]));
      return rows.map((r) => r.data).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    });
  }

  /** Extends a lease still held by `owner` (not expired on the database clock); does not bump rev. */
  async renewLease(taskId: string, owner: string, leaseMs: number): Promise<boolean> {
    const t = this.db.t;
    const { rowCount } = await this.db.query(
      `renew the lease of task ${taskId}`,
      `WITH clock AS (SELECT ${NOW_MS} AS now)
       UPDATE ${t.tasks} SET data = jsonb_set(data, '{lease,until}', to_jsonb(clock.now + $3::float8))
       FROM clock WHERE id = $1 AND lease_owner = $2 AND lease_until > clock.now`,
      [taskId, owner, leaseMs],
    );
    return rowCount === 1;
  }
}
