/**
 * Rate limits a store may share among processes: a limit counted in memory holds per process,
 * so with three instances behind a balancer a person would get three times their limit. A
 * store several processes share (PostgreSQL) counts in the database instead
 * (rate-limiter-flexible's RateLimiterPostgres), with a memory counter as insurance while the
 * database can't be reached.
 */
import { RateLimiterMemory, type RateLimiterRes } from "rate-limiter-flexible";

export interface LimiterOptions {
  /** Names the counter (keys of different limiters never meet). */
  prefix: string;
  /** How many a key may take per window. */
  points: number;
  durationSeconds: number;
}

/** A counter per key and window, as rate-limiter-flexible's limiters are. */
export interface Limiter {
  readonly points: number;
  /** Takes points; rejects with the RateLimiterRes (its `msBeforeNext`) when over the limit. */
  consume(key: string, points?: number): Promise<RateLimiterRes>;
  /** Adds points without refusing. */
  penalty(key: string, points?: number): Promise<RateLimiterRes>;
  /** The key's state now; null when it took nothing this window. */
  get(key: string): Promise<RateLimiterRes | null>;
  /** Sets the key's points for the next `seconds`. */
  set(key: string, points: number, seconds: number): Promise<RateLimiterRes>;
}

export type LimiterFactory = (options: LimiterOptions) => Limiter;

/** A store whose limiters count for every process that shares it. */
export interface SharedLimits {
  limiter(options: LimiterOptions): Limiter;
}

export function hasSharedLimits<S extends object>(store: S): store is S & SharedLimits {
  return typeof (store as Partial<SharedLimits>).limiter === "function";
}

/** A limiter in this process's memory. */
export function memoryLimiter(options: LimiterOptions): Limiter {
  return new RateLimiterMemory({ keyPrefix: options.prefix, points: options.points, duration: options.durationSeconds });
}

/** The limiters of a store: shared when it shares them, else in memory. */
export function limitersOf(store: object): LimiterFactory {
  return hasSharedLimits(store) ? (options) => store.limiter(options) : memoryLimiter;
}
