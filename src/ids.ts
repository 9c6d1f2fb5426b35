import { createHash, randomFillSync } from "node:crypto";

/** Random bytes drawn a pool at a time: one call into the system's generator per 4 KiB, not per id (as nanoid does). */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

/** A url-safe random id, e.g. for sessions, tasks and messages. */
export function newId(bytes = 12): string {
  if (bytes > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(bytes)).toString("base64url");
  if (used + bytes > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString("base64url", used, used + bytes);
  used += bytes;
  return id;
}

/**
 * A short id derived from a key (an event, a schedule slot): processing the same thing again
 * after a crash reuses its ids, which makes the effects idempotent.
 */
export function derivedId(prefix: string, key: string): string {
  return `${prefix}${createHash("sha256").update(key).digest("base64url").slice(0, 20)}`;
}
