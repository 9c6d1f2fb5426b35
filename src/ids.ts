import { createHash, randomBytes } from "node:crypto";

/** A url-safe random id, e.g. for sessions, tasks and messages. */
export function newId(bytes = 12): string {
  return randomBytes(bytes).toString("base64url");
}

/**
 * A short id derived from a key (an event, a schedule slot): processing the same thing again
 * after a crash reuses its ids, which makes the effects idempotent.
 */
export function derivedId(prefix: string, key: string): string {
  return `${prefix}${createHash("sha256").update(key).digest("base64url").slice(0, 20)}`;
}
