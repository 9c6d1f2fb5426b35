/**
 * The schema, as numbered migrations applied at open(): inside one transaction that holds an
 * advisory lock fixed for the schema, so stores opening at once apply each migration once
 * (the others wait, then find it applied). Applied versions are rows of `<schema>.migrations`.
 * A migration is never changed once released: a change is a new migration.
 */
import { ConfigError } from "../../errors.ts";
import { lockKey, type Db, type Tables } from "./db.ts";
import { RATE_LIMITS_TABLE } from "./limits.ts";

interface Migration {
  version: number;
  /** What it does, for the log. */
  name: string;
  sql: (t: Tables) => string;
}

/**
 * Records are kept whole as jsonb (`data`); the columns queries filter and sort on are
 * generated from it, so they can never disagree with the record. Ids compare bytewise
 * (COLLATE "C"), as the memory store compares strings.
 */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "sessions, messages, tasks, journal, outbox, events, feed, schedules",
    sql: (t) => `
      CREATE TABLE ${t.sessions} (
        id text COLLATE "C" PRIMARY KEY,
        data jsonb NOT NULL,
        key text GENERATED ALWAYS AS (data->>'key') STORED,
        state text GENERATED ALWAYS AS (data->>'state') STORED,
        platform text GENERATED ALWAYS AS (data->>'platform') STORED,
        owner text GENERATED ALWAYS AS (data->>'owner') STORED,
        last_active_at float8 GENERATED ALWAYS AS ((data->>'lastActiveAt')::float8) STORED
      );
      -- One open session per key, across every process sharing the database.
      CREATE UNIQUE INDEX sessions_open_key ON ${t.sessions} (key) WHERE state <> 'closed';
      CREATE INDEX sessions_activity ON ${t.sessions} (last_active_at DESC, id DESC);

      CREATE TABLE ${t.messages} (
        n bigserial PRIMARY KEY,
        session_id text NOT NULL,
        data jsonb NOT NULL
      );
      CREATE INDEX messages_session ON ${t.messages} (session_id, n);

      CREATE TABLE ${t.tasks} (
        id text COLLATE "C" PRIMARY KEY,
        data jsonb NOT NULL,
        rev float8 GENERATED ALWAYS AS ((data->>'rev')::float8) STORED,
        status text GENERATED ALWAYS AS (data->>'status') STORED,
        session_id text GENERATED ALWAYS AS (data->>'sessionId') STORED,
        owner text GENERATED ALWAYS AS (data->>'owner') STORED,
        workflow text GENERATED ALWAYS AS (data->>'workflow') STORED,
        created_at float8 GENERATED ALWAYS AS ((data->>'createdAt')::float8) STORED,
        finished_at float8 GENERATED ALWAYS AS ((data->>'finishedAt')::float8) STORED,
        lease_owner text GENERATED ALWAYS AS (data->'lease'->>'owner') STORED,
        lease_until float8 GENERATED ALWAYS AS ((data->'lease'->>'until')::float8) STORED
      );
      CREATE INDEX tasks_created ON ${t.tasks} (created_at DESC, id DESC);
      CREATE INDEX tasks_session ON ${t.tasks} (session_id, status);
      CREATE INDEX tasks_runnable ON ${t.tasks} (created_at, id) WHERE status IN ('queued', 'running');

      CREATE TABLE ${t.journal} (
        task_id text NOT NULL,
        key text NOT NULL,
        n bigserial NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (task_id, key)
      );
      CREATE TABLE ${t.outbox} (
        task_id text NOT NULL,
        key text NOT NULL,
        n bigserial NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (task_id, key)
      );

      CREATE TABLE ${t.events} (
        key text PRIMARY KEY,
        expires_at float8 NOT NULL
      );
      CREATE INDEX events_expiry ON ${t.events} (expires_at);

      CREATE SEQUENCE ${t.feedSeq};
      CREATE TABLE ${t.feed} (
        seq bigint PRIMARY KEY,
        session_id text NOT NULL,
        task_id text,
        at float8 NOT NULL,
        data jsonb NOT NULL
      );
      CREATE INDEX feed_session ON ${t.feed} (session_id, seq);
      CREATE INDEX feed_task ON ${t.feed} (task_id) WHERE task_id IS NOT NULL;
      CREATE INDEX feed_at ON ${t.feed} (at);

      CREATE TABLE ${t.schedules} (
        id text COLLATE "C" PRIMARY KEY,
        data jsonb NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "leaders of one-holder connections",
    sql: (t) => `
      CREATE TABLE ${t.leaders} (
        name text PRIMARY KEY,
        owner text NOT NULL,
        until float8 NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: "recently finished and recently parked tasks (the sweeps for finals and questions); rate limits shared by the instances",
    sql: (t) => `
      CREATE TABLE ${t.schema}.${RATE_LIMITS_TABLE} (key text PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint);
      ALTER TABLE ${t.tasks} ADD COLUMN updated_at float8 GENERATED ALWAYS AS ((data->>'updatedAt')::float8) STORED;
      CREATE INDEX tasks_finished ON ${t.tasks} (finished_at) WHERE finished_at IS NOT NULL;
      CREATE INDEX tasks_waiting_updated ON ${t.tasks} (updated_at) WHERE status = 'waiting';
    `,
  },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Brings the schema up to SCHEMA_VERSION; resolves the versions applied now (empty when it was current). */
export async function migrate(db: Db, from: string): Promise<number[]> {
  const t = db.t;
  return db.tx("update chatflow's tables", async (query) => {
    await query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(db.schema, "migrate")]);
    await query(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
    await query(`CREATE TABLE IF NOT EXISTS ${t.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await query<{ v: number | null }>(`SELECT max(version) AS v FROM ${t.migrations}`);
    const current = rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new ConfigError(
        `The database schema is at version ${current}, newer than this chatflow (knows up to ${SCHEMA_VERSION}): upgrade chatflow, or point ${from} at another database.`,
      );
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await query(m.sql(t));
      await query(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
