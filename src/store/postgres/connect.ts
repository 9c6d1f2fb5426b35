/**
 * Connecting to PostgreSQL: the store's options, the URL from the environment, the pool.
 * The URL is a secret: it is read here and handed to pg, never logged or put in a sentence.
 */
import pg from "pg";
import { ConfigError } from "../../errors.ts";
import type { Target } from "./errors.ts";

/** The environment variable holding the database URL. */
export const DATABASE_URL_ENV = "CHATFLOW_DATABASE_URL";
/** Read when DATABASE_URL_ENV is not set (the name most hosting platforms use). */
export const DATABASE_URL_FALLBACK_ENV = "DATABASE_URL";

export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_SCHEMA = "chatflow";
/** How long connecting may take before open() (or a query) fails. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Where the store reports what it worked around (a pino logger fits). */
export interface PostgresStoreLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface PostgresStoreOptions {
  /** postgres://user:password@host:5432/database (a secret: never logged). */
  url: string;
  /** Where the URL came from, named in sentences; default CHATFLOW_DATABASE_URL. */
  urlFrom?: string;
  logger?: PostgresStoreLogger;
  /** Connections in the pool; default 10. The feed watch (watchFeed) uses one more of its own. */
  poolSize?: number;
  /** The PostgreSQL schema holding every table; default `chatflow`. Lower-case letters, digits and `_`. */
  schema?: string;
  /** Shown in pg_stat_activity; default `chatflow`. */
  applicationName?: string;
  /** Default 10 000: open() and queries fail in bounded time when the server can't be reached. */
  connectTimeoutMs?: number;
}

/** The database URL from the environment: CHATFLOW_DATABASE_URL, else DATABASE_URL; a ConfigError naming both when neither is set. */
export function databaseUrlFromEnv(env: Record<string, string | undefined> = process.env): string {
  for (const name of [DATABASE_URL_ENV, DATABASE_URL_FALLBACK_ENV]) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  throw new ConfigError(
    `The PostgreSQL store needs a database URL: set ${DATABASE_URL_ENV} (or ${DATABASE_URL_FALLBACK_ENV}) to postgres://user:password@host:5432/database.`,
  );
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,49}$/;

/** Checks the schema option: a plain lower-case identifier (it also names the NOTIFY channel). */
export function checkSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`The PostgreSQL schema name ${JSON.stringify(schema)} is not usable: use 1-50 lower-case letters, digits and "_", starting with a letter or "_".`);
  }
  return schema;
}

/** Host, port, user and database of a URL, without the password; a ConfigError when it is no PostgreSQL URL. */
export function targetOf(url: string, from: string): Target {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new ConfigError(`${from} is not a PostgreSQL URL: expected postgres://user:password@host:5432/database (special characters in the password percent-encoded).`);
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const host = parsed.hostname || parsed.searchParams.get("host") || process.env.PGHOST || "localhost";
  const port = Number(parsed.port || parsed.searchParams.get("port") || process.env.PGPORT || 5432);
  const user = decode(parsed.username) || process.env.PGUSER || process.env.USER || "postgres";
  const database = decode(parsed.pathname.replace(/^\//, "")) || process.env.PGDATABASE || user;
  return { host: host.replace(/^\[(.*)\]$/, "$1"), port, user, database, from };
}

/** How long a pool connection may sit idle inside a transaction before the server ends it. */
export const IDLE_IN_TRANSACTION_MS = 5000;

/** The connection settings of the pool and of the feed watch's own client. */
export function clientConfig(options: PostgresStoreOptions, suffix = ""): pg.ClientConfig {
  return {
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: `${options.applicationName ?? "chatflow"}${suffix}`.slice(0, 63),
    keepAlive: true,
  };
}

/** The store's pool. Errors of idle connections (the server restarted) are logged, not thrown: the next query reconnects. */
export function createPool(options: PostgresStoreOptions, target: Target, logger: PostgresStoreLogger): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(options),
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    idleTimeoutMillis: 30_000,
    // A process paused or cut off inside a transaction (holding the feed's lock, a claim's row
    // locks) would hold up every other process: the server ends such a session after 5 s.
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
  });
  pool.on("error", (error: Error & { code?: string }) => {
    logger.warn({ host: target.host, port: target.port, code: error.code }, `an idle PostgreSQL connection failed (${error.code ?? "connection lost"}); the next query opens a new one`);
  });
  return pool;
}
