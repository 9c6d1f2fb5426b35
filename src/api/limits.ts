import { RateLimiterRes } from "rate-limiter-flexible";
import type { Limiter, LimiterOptions } from "../port/index.ts";
import { ApiError, retryAfterSeconds } from "./errors.ts";

export interface LimitSettings {
  /** API requests per user per minute. */
  requestsPerMinute: number;
  /**
   * Tasks a user may start per minute, however they start them; absent: the engine's
   * `tasks.startsPerUserPerMinute`. Counted by the engine (`host.tasks.limitPlatform`), not here.
   */
  tasksPerMinute?: number;
  /** Failed sign-ins (a wrong token or JWT) per client address per minute; past it, 429 before the credential is checked. */
  failedSignInsPerMinute: number;
}

/**
 * Per-user rate limits, and failed sign-ins per client address (rate-limiter-flexible: in
 * memory, or in the store several instances share, so a limit holds across them). Over a
 * limit, an ApiError 429 with Retry-After in whole seconds.
 */
export class Limits {
  readonly #requests: Limiter;
  readonly #signIns: Limiter;

  constructor(settings: LimitSettings, limiters: (options: LimiterOptions) => Limiter) {
    this.#requests = limiters({ prefix: "req", points: settings.requestsPerMinute, durationSeconds: 60 });
    this.#signIns = limiters({ prefix: "signin", points: settings.failedSignInsPerMinute, durationSeconds: 60 });
  }

  /**
   * Refuses an address that failed to sign in too often in the last minute. Called before the
   * credential is checked, so guessing stays refused even when a guess is right; other
   * addresses are not affected.
   */
  async signInAllowed(address: string): Promise<void> {
    const state = await this.#signIns.get(address);
    if (state === null || state.consumedPoints < this.#signIns.points) return;
    const seconds = retryAfterSeconds(state.msBeforeNext);
    throw new ApiError(429, "rate_limited", `Too many failed sign-ins from this address (the limit is ${this.#signIns.points} a minute). Try again in ${seconds} s.`, { "Retry-After": String(seconds) });
  }

  /** Counts a failed sign-in (a credential that was sent and is not valid) against the address. */
  async signInFailed(address: string): Promise<void> {
    await this.#signIns.penalty(address, 1);
  }

  request(user: string): Promise<void> {
    return consume(this.#requests, user, "requests per minute");
  }

}

async function consume(limiter: Limiter, user: string, what: string): Promise<void> {
  try {
    await limiter.consume(user);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const seconds = retryAfterSeconds(rejection.msBeforeNext);
    throw new ApiError(429, "rate_limited", `Too many ${what} (the limit is ${limiter.points}). Try again in ${seconds} s.`, { "Retry-After": String(seconds) });
  }
}
