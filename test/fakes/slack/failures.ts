import type { Json } from "./protocol.ts";

/** Failure injection (rules like the Telegram fake's) and an optional per-method rate limiter. */

/**
 * What a failing call gets: `ratelimited` (HTTP 429, `Retry-After`, `{ok:false,error:"ratelimited"}`),
 * `server_error` (HTTP 500, or `status`), `drop` (the socket is destroyed, no answer), or any
 * other string: that Slack error with HTTP 200 (`channel_not_found`, `invalid_auth`, ...).
 */
export type FailureKind = "ratelimited" | "server_error" | "drop" | (string & {});

export interface FailureRule {
  /** A method name, or `*` for every method. */
  method: string;
  kind: FailureKind;
  /** Fail this many matching calls (default 1)... */
  times?: number;
  /** ...or every matching call for this many ms from now. */
  forMs?: number;
  /** For `ratelimited`: the Retry-After seconds (default 1). */
  retryAfter?: number;
  /** For `server_error`: the HTTP status (default 500; 503 is the other one Slack sends). */
  status?: number;
  /** Only calls whose decoded parameters match. */
  match?: (params: Json) => boolean;
}

/** A method's rate limit: `perMinute` (Slack's tiers: 1, 20, 50, 100+) or `perSecond`, optionally per channel. */
export interface RateLimit {
  perMinute?: number;
  perSecond?: number;
  /** Count each channel separately (chat.postMessage's ~1/s per channel). */
  perChannel?: boolean;
}

/** The HTTP answer of a failure: status, headers, body (undefined for `drop`). */
export interface FailureAnswer {
  kind: FailureKind;
  status: number;
  headers: Record<string, string>;
  body?: Json;
}

export function failureAnswer(rule: Pick<FailureRule, "kind" | "retryAfter" | "status">): FailureAnswer {
  switch (rule.kind) {
    case "ratelimited": {
      const retryAfter = rule.retryAfter ?? 1;
      return { kind: rule.kind, status: 429, headers: { "Retry-After": String(retryAfter) }, body: { ok: false, error: "ratelimited" } };
    }
    case "server_error":
      return { kind: rule.kind, status: rule.status ?? 500, headers: {}, body: { ok: false, error: "fatal_error" } };
    case "drop":
      return { kind: rule.kind, status: 0, headers: {} };
    default:
      return { kind: rule.kind, status: 200, headers: {}, body: { ok: false, error: rule.kind } };
  }
}

export class Failures {
  readonly #rules: Array<FailureRule & { left: number; until?: number }> = [];
  readonly #limits = new Map<string, { limit: number; windowMs: number; perChannel: boolean }>();
  readonly #windows = new Map<string, number[]>();

  add(rule: FailureRule): void {
    this.#rules.push({ ...rule, left: rule.times ?? (rule.forMs !== undefined ? Infinity : 1), ...(rule.forMs !== undefined ? { until: Date.now() + rule.forMs } : {}) });
  }

  /** Sets (or with `undefined` removes) a method's rate limit. */
  limit(method: string, limit: RateLimit | undefined): void {
    if (!limit) return void this.#limits.delete(method);
    const windowMs = limit.perSecond !== undefined ? 1000 : 60_000;
    const count = limit.perSecond ?? limit.perMinute;
    if (count === undefined || count < 1) throw new Error(`rate limit for ${method}: give perMinute or perSecond (at least 1)`);
    this.#limits.set(method, { limit: count, windowMs, perChannel: limit.perChannel === true });
  }

  /** The failure this call gets from a rule, if any (consumes one use of the rule). */
  fromRule(method: string, params: Json): FailureAnswer | undefined {
    const now = Date.now();
    const rule = this.#rules.find((r) => (r.method === "*" || r.method === method) && r.left > 0 && (r.until === undefined || now < r.until) && (!r.match || r.match(params)));
    if (!rule) return undefined;
    rule.left--;
    return failureAnswer(rule);
  }

  /** A 429 if the call is over its method's limit; calls within it are counted (refused ones are not). */
  fromLimiter(method: string, params: Json): FailureAnswer | undefined {
    const limit = this.#limits.get(method);
    if (!limit) return undefined;
    const key = limit.perChannel ? `${method} ${String(params.channel ?? params.channel_id ?? "")}` : method;
    const now = Date.now();
    const window = (this.#windows.get(key) ?? []).filter((at) => now - at < limit.windowMs);
    this.#windows.set(key, window);
    if (window.length >= limit.limit) {
      const retryAfter = Math.max(1, Math.ceil((window[0]! + limit.windowMs - now) / 1000));
      return { ...failureAnswer({ kind: "ratelimited", retryAfter }), kind: "tier_limit" };
    }
    window.push(now);
    return undefined;
  }
}
