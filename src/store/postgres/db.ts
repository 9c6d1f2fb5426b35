/**
 * The store's access to PostgreSQL: queries and transactions on the pool, failures turned
 * into sentences (errors.ts), and the health they imply. Table names are schema-qualified
 * here once (`Db.t`), so the other files write `${db.t.tasks}`.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { ChatflowError } from "../../errors.ts";
import { tooDeepMessage, tooDeepToStore } from "../json-depth.ts";
import { isConnectionFailure, queryFailure, type Target } from "./errors.ts";

/** The epoch ms of the database clock, as SQL. */
export const NOW_MS = "floor(extract(epoch from clock_timestamp()) * 1000)::float8";

export type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<pg.QueryResult<R>>;

/** Schema-qualified table names. */
export interface Tables {
  schema: string;
  migrations: string;
  sessions: string;
  messages: string;
  tasks: string;
  journal: string;
  outbox: string;
  events: string;
  feed: string;
  feedSeq: string;
  schedules: string;
  leaders: string;
}

export function tablesOf(schema: string): Tables {
  const q = (name: string) => `"${schema}".${name}`;
  return {
    schema: `"${schema}"`,
    migrations: q("migrations"),
    sessions: q("sessions"),
    messages: q("messages"),
    tasks: q("tasks"),
    journal: q("journal"),
    outbox: q("outbox"),
    events: q("events"),
    feed: q("feed"),
    feedSeq: q("feed_seq"),
    schedules: q("schedules"),
    leaders: q("leaders"),
  };
}

/** A key for pg_advisory_xact_lock(bigint): fixed per schema and purpose (a decimal string). */
export function lockKey(schema: string, purpose: string): string {
  return createHash("sha256").update(`chatflow:${schema}:${purpose}`).digest().readBigInt64BE(0).toString();
}

export class Db {
  readonly t: Tables;
  /** The sentence of the last connection failure not followed by a query that worked. */
  #failure: string | undefined;

  constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    private readonly target: Target,
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    this.t = tablesOf(schema);
  }

  health(): { ok: boolean; error?: string } {
    return this.#failure === undefined ? { ok: true } : { ok: false, error: this.#failure };
  }

  /** One statement on a pool connection; `what` ("store the task t1") names it in a failure. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(what: string, sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      const result = await this.pool.query<R>(sql, params);
      this.#failure = undefined;
      return result;
    } catch (error) {
      throw this.#failed(error, what);
    }
  }

  /**
   * Several statements sent as one (the simple query protocol: no parameters, so values are
   * inlined with `literal`), which PostgreSQL runs as one transaction: one round trip, and
   * nothing waits on this process between the statements. Resolves each statement's result.
   */
  async script(what: string, sql: string): Promise<pg.QueryResult[]> {
    try {
      const results = (await this.pool.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      this.#failure = undefined;
      return Array.isArray(results) ? results : [results];
    } catch (error) {
      throw this.#failed(error, what);
    }
  }

  /** `fn` inside BEGIN … COMMIT on one connection; rolled back when it throws. */
  async tx<T>(what: string, fn: (query: Query) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.#failed(error, what);
    }
    let broken = false;
    // A connection the server ends while it is checked out (idle in a transaction too long: this
    // process was paused) emits `error` between queries: noted here, the next query rejects.
    const onError = (): void => void (broken = true);
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await fn((sql, params) => client.query(sql, params));
      await client.query("COMMIT");
      this.#failure = undefined;
      return result;
    } catch (error) {
      broken = isConnectionFailure(error);
      if (!broken) await client.query("ROLLBACK").catch(() => (broken = true));
      throw this.#failed(error, what);
    } finally {
      client.off("error", onError);
      // A connection that broke is thrown away, not returned to the pool.
      client.release(broken ? true : undefined);
    }
  }

  #failed(error: unknown, what: string): ChatflowError {
    const failure = queryFailure(error, what, this.target, this.url, this.timeoutMs);
    if (isConnectionFailure(error)) this.#failure = failure.message;
    return failure;
  }
}

/** The JSON text of a record for a jsonb parameter. */
/**
 * A value as JSON text for a jsonb parameter. PostgreSQL's jsonb can't hold the NUL character,
 * which means nothing in a chat: it is kept as U+FFFD, so a message carrying one is stored
 * rather than refused. (An escaped backslash before `u0000` is text, not a NUL, and is kept.)
 */
export function json(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes("\\u0000") ? text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, "$1\\ufffd") : text;
}

/** Splits a patch into what it sets and the keys it removes (`undefined` values), leaving out `fixed` keys. */
export function splitPatch(patch: object, fixed: readonly string[]): { set: Record<string, unknown>; remove: string[] } {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (fixed.includes(k)) continue;
    if (v === undefined) remove.push(k);
    else set[k] = v;
  }
  return { set, remove };
}

/** Refuses a record nested deeper than the stores keep (json-depth.ts), as the memory store does: code `validation`. */
export function bounded<T>(kind: string, id: string, value: T): T {
  if (tooDeepToStore(value)) throw new ChatflowError("validation", tooDeepMessage(kind, id));
  return value;
}
