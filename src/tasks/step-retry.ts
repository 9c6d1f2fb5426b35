import pRetry from "p-retry";
import { NonRetriableError, RateLimitError } from "../errors.ts";
import { NonDeterminismError } from "./replay-check.ts";

/** How `runWithRetries` retries a step. */
export interface StepRetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Delay before the first retry, in ms; doubled for each next one. */
  retryBaseMs: number;
  /** Aborts the attempts and the wait between them (cancel, timeout, shutdown). */
  signal: AbortSignal;
  /**
   * When the task times out (epoch ms), if it does: a rate limit that asks to wait past it
   * fails the step at once, with the rate limit as its reason, instead of ending in the timeout.
   */
  deadline?: number;
  /** Told of every failed attempt (for the log). */
  onFailedAttempt(error: Error, attempt: number, retriesLeft: number): void;
}

/**
 * Runs a step's function, retrying it on failure: after an exponential backoff, or, when it
 * failed with a RateLimitError, after the `retryAfterMs` the platform asked for. Errors that
 * say retrying is pointless (NonRetriableError, NonDeterminismError) and aborts are not retried.
 */
export async function runWithRetries<T>(fn: () => Promise<T> | T, options: StepRetryOptions): Promise<T> {
  const { signal } = options;
  return pRetry(
    () => {
      signal.throwIfAborted();
      return fn();
    },
    {
      retries: options.retries,
      // p-retry waits no time of its own: the delay depends on the error (a rate limit says how long), so `shouldRetry` waits it.
      minTimeout: 0,
      signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => options.onFailedAttempt(error, attemptNumber, retriesLeft),
      shouldRetry: async ({ error, retriesConsumed }) => {
        if (error instanceof NonRetriableError || error instanceof NonDeterminismError || signal.aborted) return false;
        const delay = retryDelay(error, retriesConsumed, options.retryBaseMs);
        if (error instanceof RateLimitError && options.deadline !== undefined && Date.now() + delay > options.deadline) return false;
        await sleep(delay, signal);
        return true;
      },
    },
  );
}

/** How long to wait before the next attempt: what a rate limit asked for, else `base · 2^n`. */
export function retryDelay(error: Error, retriesConsumed: number, baseMs: number): number {
  if (error instanceof RateLimitError && Number.isFinite(error.retryAfterMs) && error.retryAfterMs > 0) return error.retryAfterMs;
  return baseMs * 2 ** retriesConsumed;
}

/** Resolves after `ms`; rejects with the signal's reason (the cancel, timeout or shutdown) when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
