import type { EventEmitter } from "node:events";

/**
 * What every fake's `waitUntil` does: resolves with the first value of `condition` other than
 * undefined or false, checked at once, on every `change` the fake emits, and every 10 ms (the
 * condition may depend on the bot's side too); after `timeoutMs` rejects with an error naming
 * `what` and the fake's `summary` (its recent calls).
 */
export function waitForCondition<T>(events: EventEmitter, condition: () => T | undefined | false, timeoutMs: number, what: string, summary: () => string): Promise<T> {
  const check = (): T | undefined => {
    const value = condition();
    return value === undefined || value === false ? undefined : value;
  };
  const ready = check();
  if (ready !== undefined) return Promise.resolve(ready);
  return new Promise<T>((resolve, reject) => {
    const onChange = () => {
      const value = check();
      if (value === undefined) return;
      cleanup();
      resolve(value);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. ${summary()}`));
    }, timeoutMs);
    const poll = setInterval(onChange, 10);
    const cleanup = () => {
      clearTimeout(timer);
      clearInterval(poll);
      events.off("change", onChange);
    };
    events.on("change", onChange);
  });
}
