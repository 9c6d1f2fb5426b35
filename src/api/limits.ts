import { RateLimiterRes } from "rate-limiter-flexible";
import { memoryLimiter, type Limiter, type LimiterOptions } from "../port/index.ts";
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
 * Per-user rate limits, and failed sign-ins per client address (rate-limiter-flexible).
 * Over a limit, an ApiError 429 with Retry-After in whole seconds. Requests are counted in
 * this process's memory: each instance protects itself, and a database write on every request
 * would cost more than most requests. Failed sign-ins are counted in the store several
 * instances share (`shared`), so guesses spread over instances meet one limit; the count is
 * mirrored here at each failure, so the check every request makes stays in memory.
 */
export class Limits {
  readonly #requests: Limiter;
  /** Failed sign-ins as this process knows them (its own, and the shared count at its last failure). */
  readonly #signIns: Limiter;
  readonly #sharedSignIns: Limiter;

  constructor(settings: LimitSettings, shared: (options: LimiterOptions) => Limiter) {
    this.#requests = memoryLimiter({ prefix: "req", points: settings.requestsPerMinute, durationSeconds: 60 });
    const signIns = { prefix: "signin", points: settings.failedSignInsPerMinute, durationSeconds: 60 };
    this.#signIns = memoryLimiter(signIns);
    this.#sharedSignIns = shared(signIns);
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

  /** Counts a failed sign-in (a credential that was sent and is not valid) against the address, here and in the shared count. */
  async signInFailed(address: string): Promise<void> {
    const local = await this.#signIns.penalty(address, 1);
    const shared = await this.#sharedSignIns.penalty(address, 1);
    if (shared.consumedPoints > local.consumedPoints) await this.#signIns.set(address, shared.consumedPoints, Math.max(1, Math.ceil(shared.msBeforeNext / 1000)));
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
