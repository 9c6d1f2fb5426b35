import { createHash } from "node:crypto";
import { discordError, type Json, type RecordedCall } from "./protocol.ts";

/**
 * Failure injection (rules like the other fakes') and rate limits: every answer carries the
 * bucket headers of its route (`X-RateLimit-Limit`, `-Remaining`, `-Reset`, `-Reset-After`,
 * `-Bucket`), counted in fixed windows per route and major parameter (channel, guild,
 * webhook id + token) as Discord's buckets are. Without a limit set, a route's window is the
 * default one (1,000 per second: advertised, never enforced); `rateLimit()` enforces one.
 * An optional global limit (Discord's 50 requests/s; interaction callbacks exempt).
 */

/**
 * What a failing call gets: `ratelimited` (429, `Retry-After`, `{message, retry_after, global}`),
 * `server_error` (500 JSON, or `status` 502/503/504 as Cloudflare's HTML), `drop` (the socket
 * is destroyed, no answer), or a Discord error code (10003, 50013, 50027...: that error with
 * its HTTP status, or `status`).
 */
export type FailureKind = "ratelimited" | "server_error" | "drop" | number;

export interface FailureRule {
  /** A route template with its method (`POST /channels/:channel/messages`), or `*` for every route. */
  route: string;
  kind: FailureKind;
  /** Fail this many matching calls (default 1)... */
  times?: number;
  /** ...or every matching call for this many ms from now. */
  forMs?: number;
  /** For `ratelimited`: seconds to wait (default 1; a float, as Discord's `retry_after`). */
  retryAfter?: number;
  /** For `ratelimited`: a global limit (`X-RateLimit-Global`) instead of the route's. */
  global?: boolean;
  /** The HTTP status (server_error: default 500; a code: its usual status). */
  status?: number;
  /** Only calls this accepts. */
  match?: (call: RecordedCall) => boolean;
}

/** A route's limit: `limit` calls per `perMs`, per major parameter (default) or for the whole route. */
export interface RateLimit {
  limit: number;
  perMs: number;
  per?: "major" | "route";
}

/** The HTTP answer of a failure: status, headers, body (a string for HTML; undefined for `drop`). */
export interface FailureAnswer {
  kind: string;
  status: number;
  headers: Record<string, string>;
  body?: Json | string;
}

/** A route's window when no limit is enforced: advertised in the headers only, generous enough never to pace a benchmark. */
export const DEFAULT_BUCKET: RateLimit = { limit: 1000, perMs: 1000 };

const bucketHash = (route: string): string => createHash("md5").update(route).digest("hex");
const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** A 429 answer as Discord sends it. */
export function rateLimited(retryAfterS: number, options: { global?: boolean; route?: string; limit?: number } = {}): FailureAnswer {
  const headers: Record<string, string> = { "Retry-After": String(Math.max(1, Math.ceil(retryAfterS))), "X-RateLimit-Scope": options.global ? "global" : "user" };
  if (options.global) headers["X-RateLimit-Global"] = "true";
  else if (options.route) {
    Object.assign(headers, {
      "X-RateLimit-Limit": String(options.limit ?? 1), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": seconds(Date.now() + retryAfterS * 1000),
      "X-RateLimit-Reset-After": retryAfterS.toFixed(3), "X-RateLimit-Bucket": bucketHash(options.route),
    });
  }
  return { kind: "ratelimited", status: 429, headers, body: { message: "You are being rate limited.", retry_after: Number(retryAfterS.toFixed(3)), global: options.global === true } };
}

export function failureAnswer(rule: FailureRule, route: string): FailureAnswer {
  if (rule.kind === "ratelimited") return rateLimited(rule.retryAfter ?? 1, { route, ...(rule.global ? { global: true } : {}) });
  if (rule.kind === "drop") return { kind: "drop", status: 0, headers: {} };
  if (rule.kind === "server_error") {
    const status = rule.status ?? 500;
    if (status === 500) return { kind: "server_error", status, headers: {}, body: { message: "500: Internal Server Error", code: 0 } };
    return { kind: "server_error", status, headers: { "Content-Type": "text/html" }, body: `<html><head><title>${status}</title></head><body><center><h1>${status}</h1></center><hr><center>cloudflare</center></body></html>` };
  }
  const error = discordError(rule.kind, rule.status !== undefined ? { status: rule.status } : {});
  return { kind: String(rule.kind), status: error.status, headers: {}, body: { message: error.message, code: error.code } };
}

export class Failures {
  /** A limit on every route's windows instead of the default (advertised, not enforced). */
  defaultBucket: RateLimit = DEFAULT_BUCKET;
  /** Discord's global limit, if set (requests per second, interaction callbacks exempt). */
  globalPerSecond: number | undefined;
  readonly #rules: Array<FailureRule & { left: number; until?: number }> = [];
  readonly #limits = new Map<string, RateLimit>();
  readonly #windows = new Map<string, { start: number; count: number }>();
  #global = { start: 0, count: 0 };

  add(rule: FailureRule): void {
    this.#rules.push({ ...rule, left: rule.times ?? (rule.forMs !== undefined ? Infinity : 1), ...(rule.forMs !== undefined ? { until: Date.now() + rule.forMs } : {}) });
  }

  /** Sets (or with `undefined` removes) a route's enforced limit. */
  limit(route: string, limit: RateLimit | undefined): void {
    // Windows start afresh under the new limit.
    for (const key of this.#windows.keys()) if (key === route || key.startsWith(`${route} `)) this.#windows.delete(key);
    if (!limit) return void this.#limits.delete(route);
    if (!(limit.limit >= 1) || !(limit.perMs > 0)) throw new Error(`rate limit for ${route}: give limit (at least 1) and perMs`);
    this.#limits.set(route, limit);
  }

  /** The failure this call gets from a rule, if any (consumes one use of the rule). */
  fromRule(route: string, call: RecordedCall): FailureAnswer | undefined {
    const now = Date.now();
    const rule = this.#rules.find((r) => (r.route === "*" || r.route === route) && r.left > 0 && (r.until === undefined || now < r.until) && (!r.match || r.match(call)));
    if (!rule) return undefined;
    rule.left--;
    return failureAnswer(rule, route);
  }

  /**
   * Counts the call in its route's window: the bucket headers to answer with, or a 429 when an
   * enforced limit (the route's, or the global one) is spent (refused calls are not counted).
   */
  count(route: string, major: string): { headers: Record<string, string> } | { limited: FailureAnswer } {
    const now = Date.now();
    const exempt = route.startsWith("POST /interactions/");
    if (this.globalPerSecond !== undefined && !exempt) {
      if (now >= this.#global.start + 1000) this.#global = { start: now, count: 0 };
      if (this.#global.count >= this.globalPerSecond) return { limited: rateLimited((this.#global.start + 1000 - now) / 1000, { global: true }) };
      this.#global.count++;
    }
    const enforced = this.#limits.get(route);
    const limit = enforced ?? this.defaultBucket;
    const key = enforced?.per === "route" ? route : `${route} ${major}`;
    let window = this.#windows.get(key);
    if (!window || now >= window.start + limit.perMs) {
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    const resetAt = window.start + limit.perMs;
    if (enforced && window.count >= limit.limit) return { limited: rateLimited((resetAt - now) / 1000, { route, limit: limit.limit }) };
    window.count++;
    return {
      headers: {
        "X-RateLimit-Limit": String(limit.limit), "X-RateLimit-Remaining": String(Math.max(0, limit.limit - window.count)), "X-RateLimit-Reset": seconds(resetAt),
        "X-RateLimit-Reset-After": ((resetAt - now) / 1000).toFixed(3), "X-RateLimit-Bucket": bucketHash(route),
      },
    };
  }
}
