import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "./errors.ts";

export interface LimitSettings {
  /** API requests per user per minute. */
  requestsPerMinute: number;
  /** Tasks a user may start per minute (over REST or by writing in a session). */
  tasksPerMinute: number;
}

/**
 * Per-user rate limits (rate-limiter-flexible, in memory: one process). Over a limit, an
 * ApiError 429 with Retry-After in whole seconds.
 */
export class Limits {
  readonly #requests: RateLimiterMemory;
  readonly #tasks: RateLimiterMemory;

  constructor(settings: LimitSettings) {
    this.#requests = new RateLimiterMemory({ keyPrefix: "req", points: settings.requestsPerMinute, duration: 60 });
    this.#tasks = new RateLimiterMemory({ keyPrefix: "task", points: settings.tasksPerMinute, duration: 60 });
  }

  request(user: string): Promise<void> {
    return consume(this.#requests, user, "requests per minute");
  }

  taskStarted(user: string): Promise<void> {
    return consume(this.#tasks, user, "tasks started per minute");
  }
}

async function consume(limiter: RateLimiterMemory, user: string, what: string): Promise<void> {
  try {
    await limiter.consume(user);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new ApiError(429, "rate_limited", `Too many ${what} (the limit is ${limiter.points}). Try again in ${seconds} s.`, { "Retry-After": String(seconds) });
  }
}
