/**
 * Idempotency-Key, scoped: a key belongs to the user who sent it and to the operation it was
 * sent to, so two users (or two routes) choosing the same key never meet. Within that scope
 * the first request fixes what the key means: the same key with the same target and body is
 * a retry and gets the first result; with anything else it is refused with 422 (Stripe's
 * rule), never answered with another request's result.
 */
import { derivedId } from "../port/index.ts";
import type { HostKeys } from "../port/index.ts";
import { ApiError } from "./errors.ts";

/** How long a key is remembered: Stripe's 24 hours, the engine's window for re-delivered events too. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Prefix of the store's event keys used here; platforms' events are `<platform>:<id>`. */
const PREFIX = "idempotency";

export interface IdempotentRequest {
  user: string;
  /** The operation, by its route pattern (`POST /sessions/{id}/messages`), not its path. */
  route: string;
  key: string;
  /** What it asks for: its target and body. Compared as canonical JSON (key order does not matter). */
  request: unknown;
}

/**
 * The id of a key in its scope: sha256 of user, route and key, as a JSON array (so no two
 * triples give the same text, as `user-key` concatenations did).
 */
export function scopedKeyId(user: string, route: string, key: string): string {
  return derivedId("", JSON.stringify([user, route, key]));
}

/** 422 for a key reused with another request: answering with the first request's result would hand one request's result to another. */
export const idempotencyReused = () =>
  new ApiError(422, "idempotency_key_reused", "This Idempotency-Key was already used for a different request (another body or target); send a new key for a new request.");

/**
 * Scoped Idempotency-Keys over the engine's remembered keys (`host.keys`): one key
 * for the scope (user, route, key), claimed by the first request, and one for the scope with
 * the request's fingerprint. Requests of one scope run one at a time in this process, so a
 * retry sent while the first is still being handled waits for its result.
 */
export class IdempotencyKeys {
  readonly #keys: HostKeys;
  readonly #busy = new Map<string, Promise<void>>();

  constructor(keys: HostKeys) {
    this.#keys = keys;
  }

  /**
   * Runs `handle` for a request with an Idempotency-Key. `ids.scope` is the key's id in its
   * scope (user, route, key); `ids.exact` also covers the request's target and body, so an
   * id derived from it can never stand for another request. `retry` is true when the same
   * request came before (it may not have finished: look for its result, and make it if it
   * is not there). Throws 422 when the key was used for a different request.
   */
  async run<T>(request: IdempotentRequest, handle: (ids: { scope: string; exact: string }, retry: boolean) => Promise<T>): Promise<T> {
    const scope = scopedKeyId(request.user, request.route, request.key);
    const fingerprint = derivedId("", canonicalJson(request.request));
    const ids = { scope, exact: derivedId("", JSON.stringify([scope, fingerprint])) };
    const scopeKey = `${PREFIX}:${scope}`;
    const fingerprintKey = `${scopeKey}:${fingerprint}`;
    const previous = this.#busy.get(scopeKey);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const turn = (previous ?? Promise.resolve()).then(() => mine);
    this.#busy.set(scopeKey, turn);
    try {
      await previous;
      if (await this.#keys.seen(fingerprintKey)) return await handle(ids, true);
      // The scope first: a crash between the two claims leaves the key refused, never shared.
      if (!(await this.#keys.claim(scopeKey, IDEMPOTENCY_TTL_MS))) throw idempotencyReused();
      await this.#keys.claim(fingerprintKey, IDEMPOTENCY_TTL_MS);
      return await handle(ids, false);
    } finally {
      release();
      if (this.#busy.get(scopeKey) === turn) this.#busy.delete(scopeKey);
    }
  }
}

/**
 * JSON with object keys sorted, so two bodies that differ only in key order have one
 * fingerprint. Values come from parsed, depth-bounded JSON (src/api/json-limits.ts), so the
 * recursion is shallow.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(",")}}`;
}
