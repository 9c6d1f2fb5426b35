import { RateLimiterMemory, RateLimiterPostgres } from "rate-limiter-flexible";
import type { Limiter, LimiterOptions } from "../limits.ts";
import type { Db } from "./db.ts";

/** The table of the counters (migration 3; the columns RateLimiterPostgres expects, with `key` as text). */
export const RATE_LIMITS_TABLE = "rate_limits";

/**
 * A limiter counted in the database, shared by every process on it; while the database can't
 * be reached, counted in memory (the library's insurance limiter) rather than refusing or
 * letting everything through. Built at the first call, once the store is open.
 */
export class PostgresLimiter implements Limiter {
  readonly points: number;
  readonly #options: LimiterOptions;
  readonly #db: () => Db;
  #limiter: RateLimiterPostgres | undefined;

  constructor(db: () => Db, options: LimiterOptions) {
    this.#db = db;
    this.#options = options;
    this.points = options.points;
  }

  consume(key: string, points = 1) {
    return this.#get().consume(key, points);
  }

  penalty(key: string, points = 1) {
    return this.#get().penalty(key, points);
  }

  get(key: string) {
    return this.#get().get(key);
  }

  set(key: string, points: number, seconds: number) {
    return this.#get().set(key, points, seconds);
  }

  #get(): RateLimiterPostgres {
    if (this.#limiter) return this.#limiter;
    const db = this.#db();
    const { prefix, points, durationSeconds } = this.#options;
    this.#limiter = new RateLimiterPostgres({
      storeClient: db.pool,
      storeType: "pool",
      schemaName: db.schema,
      tableName: RATE_LIMITS_TABLE,
      tableCreated: true,
      keyPrefix: prefix,
      points,
      duration: durationSeconds,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, points, duration: durationSeconds }),
    });
    return this.#limiter;
  }
}
