import { RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitError } from "../errors.ts";
import type { Address } from "../model.ts";
import { memoryLimiter, type Limiter, type LimiterFactory } from "../store/limits.ts";

/** Where a platform's limit comes from, named in the refusal so an operator knows what to raise. */
export interface QuotaLimit {
  /** Tasks one user may start per minute; 0 turns the limit off. */
  perMinute: number;
  /** The setting that holds it, e.g. `tasks.startsPerUserPerMinute`. */
  setting: string;
}

/**
 * How many tasks one person may cause per minute, whatever the path: a message or a command
 * in any chat, a POST over the API, a schedule's fire (counted against the person who made
 * it). The runner takes a point for every task it creates, so no door skips the rule.
 * Counts are per `platform:user` (rate-limiter-flexible): in memory, or in the store where
 * several processes share it, so the limit holds across instances.
 */
export class TaskQuota {
  /** Limiters by per-minute value, shared by the platforms with the same limit. */
  readonly #limiters = new Map<number, Limiter>();
  readonly #byPlatform = new Map<string, QuotaLimit>();
  readonly #fallback: QuotaLimit;
  readonly #make: LimiterFactory;

  constructor(fallback: QuotaLimit, limiters: LimiterFactory = memoryLimiter) {
    this.#fallback = fallback;
    this.#make = limiters;
  }

  /** Gives one platform its own limit (the web adapter's `rateLimit.tasksPerMinute`). */
  setPlatformLimit(platform: string, limit: QuotaLimit): void {
    this.#byPlatform.set(platform, limit);
  }

  /** The limit that applies to a platform's users. */
  limitOf(platform: string): QuotaLimit {
    return this.#byPlatform.get(platform) ?? this.#fallback;
  }

  /** Takes one task start for the address's user; throws RateLimitError (with the wait) when they are at their limit. */
  async take(owner: Pick<Address, "platform" | "user">): Promise<void> {
    const limit = this.limitOf(owner.platform);
    if (limit.perMinute <= 0) return;
    try {
      await this.#limiter(limit.perMinute).consume(`${owner.platform}:${owner.user}`);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterMs = Math.max(1000, Math.ceil(rejection.msBeforeNext / 1000) * 1000);
      throw new RateLimitError(
        `Too many tasks started: the limit is ${limit.perMinute} a minute per person (${limit.setting}). Try again in ${retryAfterMs / 1000} s.`,
        retryAfterMs,
      );
    }
  }

  #limiter(perMinute: number): Limiter {
    let limiter = this.#limiters.get(perMinute);
    if (!limiter) {
      limiter = this.#make({ prefix: `tasks-${perMinute}`, points: perMinute, durationSeconds: 60 });
      this.#limiters.set(perMinute, limiter);
    }
    return limiter;
  }
}
