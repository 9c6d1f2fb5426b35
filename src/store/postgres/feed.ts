/**
 * The feed: one ordered list of events for every process sharing the database.
 *
 * Numbering. An append is one transaction (one script of statements, one round trip) that
 * first takes an advisory lock fixed for the schema (`pg_advisory_xact_lock`), then its seqs
 * from the `feed_seq` sequence, inserts its events, and commits (which releases the lock). So appends number one transaction after the
 * other, and a transaction's seqs are above those of every append committed before it: seq
 * order is commit order. A reader that saw seq N has therefore seen every event numbered
 * below N, and paging on with `after` = N skips nothing written late. Within this process,
 * calls are queued in call order (SerialBatcher): appends made together share one
 * transaction, and seqs follow the order of the calls even when they are not awaited.
 *
 * After the events, the transaction calls `pg_notify('<schema>_feed', …)` with the last seq,
 * and the events themselves when they fit in the payload: PostgreSQL delivers it at commit,
 * in commit order, to every store's feed watch (watch.ts), whose reader then needs no read
 * when the events continue its tail.
 */
import type { FeedFilter, FeedPageRequest } from "../port.ts";
import { feedLimit, feedSessions } from "../query.ts";
import type { FeedRecord, NewFeedRecord } from "../records.ts";
import pg from "pg";
import { bounded, json, lockKey, type Db } from "./db.ts";
import { isConnectionFailure } from "./errors.ts";
import { SerialBatcher } from "./serial.ts";

/** The most bytes of events a NOTIFY carries (PostgreSQL's payload limit is 8,000); a larger append sends only its last seq. */
const NOTIFY_EVENTS_BYTES = 7_500;

/** The NOTIFY channel of a schema's feed. */
export const feedChannel = (schema: string) => `${schema}_feed`;

export class Feed {
  readonly #appends: SerialBatcher<NewFeedRecord[], FeedRecord[]>;

  constructor(private readonly db: Db) {
    this.#appends = new SerialBatcher((calls) => this.#append(calls), { maxBatch: 200, isolate: (e) => !isConnectionFailure(e) });
  }

  /** Numbered in call order; resolves with the stored events. */
  async append(events: NewFeedRecord[]): Promise<FeedRecord[]> {
    for (const e of events) bounded(`${e.type} event of session`, e.sessionId, e);
    if (events.length === 0) return [];
    // Through JSON, as stored: an undefined property is no property.
    return this.#appends.push(JSON.parse(json(events)) as NewFeedRecord[]);
  }

  /**
   * One round trip: the lock, the numbering and insert, and the NOTIFY as one script (one
   * transaction), so the lock is never held while this process waits (or is paused).
   */
  async #append(calls: NewFeedRecord[][]): Promise<FeedRecord[][]> {
    const all = calls.flat();
    const t = this.db.t;
    const what = all.length === 1 ? `store a ${all[0]!.type} event of session ${all[0]!.sessionId}` : `store ${all.length} feed events`;
    const results = await this.db.script(
      what,
      `SELECT pg_advisory_xact_lock(${lockKey(this.db.schema, "feed")}::bigint);
       WITH numbered AS (
         SELECT nextval('${t.feedSeq}') AS seq, x.r FROM (SELECT r, ord FROM jsonb_array_elements(${pg.escapeLiteral(json(all))}::jsonb) WITH ORDINALITY AS e(r, ord) ORDER BY ord) AS x
       ), inserted AS (
         INSERT INTO ${t.feed} (seq, session_id, task_id, at, data) SELECT seq, r->>'sessionId', r->>'taskId', (r->>'at')::float8, r FROM numbered
       )
       , told AS (
         SELECT max(seq) AS last, jsonb_agg(r || jsonb_build_object('seq', seq) ORDER BY seq)::text AS events FROM numbered
       )
       SELECT array_to_json(ARRAY(SELECT seq FROM numbered ORDER BY seq))::text AS seqs,
         pg_notify(${pg.escapeLiteral(feedChannel(this.db.schema))}, CASE WHEN octet_length(events) <= ${NOTIFY_EVENTS_BYTES} THEN '{"last":' || last || ',"events":' || events || '}' ELSE last::text END)
       FROM told;`,
    );
    const seqs = (JSON.parse((results[1]!.rows[0] as { seqs: string }).seqs) as number[]).sort((a, b) => a - b);
    let i = 0;
    return calls.map((events) => events.map((e) => ({ seq: seqs[i++]!, ...e })));
  }

  /** Events matching `filter` with seq > `after`, oldest first; committed events only, which are a prefix of the numbering. */
  async read(filter: FeedFilter = {}, page: FeedPageRequest = {}): Promise<FeedRecord[]> {
    const limit = feedLimit(page);
    const sessions = feedSessions(filter);
    if (limit === 0 || sessions?.size === 0) return [];
    const params: unknown[] = [page.after ?? 0, limit];
    let where = "seq > $1";
    if (sessions) {
      params.push([...sessions]);
      where += ` AND session_id = ANY($${params.length}::text[])`;
    }
    if (filter.taskId !== undefined) {
      params.push(filter.taskId);
      where += ` AND task_id = $${params.length}`;
    }
    const { rows } = await this.db.query<{ seq: string; data: NewFeedRecord }>("read the feed", `SELECT seq, data FROM ${this.db.t.feed} WHERE ${where} ORDER BY seq LIMIT $2`, params);
    return rows.map((r) => ({ seq: Number(r.seq), ...r.data }));
  }

  async prune(before: number): Promise<number> {
    const { rowCount } = await this.db.query("remove old feed events", `DELETE FROM ${this.db.t.feed} WHERE at < $1`, [before]);
    return rowCount ?? 0;
  }

  /**
   * The highest seq committed, 0 for an empty feed: where a live reader starts. (Not the
   * sequence's value: that counts seqs taken by appends not yet committed, which a reader
   * starting above them would skip. An append in flight numbers above every committed seq.)
   */
  async lastSeq(): Promise<number> {
    const { rows } = await this.db.query<{ seq: string | null }>("read the feed's last seq", `SELECT max(seq) AS seq FROM ${this.db.t.feed}`);
    return Number(rows[0]?.seq ?? 0);
  }

  drain(): Promise<void> {
    return this.#appends.drain();
  }
}

/** Inserts numbered feed records (the record without its seq is `data`). */
export async function insertFeed(query: (sql: string, params: unknown[]) => Promise<unknown>, table: string, records: FeedRecord[], upsert = false): Promise<void> {
  if (records.length === 0) return;
  await query(
    `INSERT INTO ${table} (seq, session_id, task_id, at, data)
     SELECT (r->>'seq')::bigint, r->>'sessionId', r->>'taskId', (r->>'at')::float8, r - 'seq'
     FROM jsonb_array_elements($1::jsonb) AS x(r)${upsert ? " ON CONFLICT (seq) DO UPDATE SET session_id = EXCLUDED.session_id, task_id = EXCLUDED.task_id, at = EXCLUDED.at, data = EXCLUDED.data" : ""}`,
    [json(records)],
  );
}
