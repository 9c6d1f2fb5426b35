import type { Route } from "./protocol.ts";

/**
 * Failure injection. Except for `lost` and `slow`, a failing request is answered (or not) before
 * the fake handles it: the run is not created, polled, resumed or cancelled. Each such request is
 * recorded with its `failure`.
 */

/**
 * `unreachable`: the socket is destroyed without an answer, nothing handled (the client sees a
 * network error); `status`: that HTTP status (default 500) with `{error: "injected <status>"}`,
 * nothing handled; `malformed`: the route's success status (201/200/202) with a body that is not
 * valid JSON, nothing handled; `lost`: handled as usual (the run is created, resumed...), then the
 * socket is destroyed instead of answering (a retry then meets the changed state); `slow`:
 * handled and answered after `delayMs` (for client timeouts).
 */
export type FailureKind = "unreachable" | "status" | "malformed" | "lost" | "slow";

export interface FailureRule {
  /** Which route fails, or `*` for all. */
  route: Route | "*";
  kind: FailureKind;
  /** For `status`: the HTTP status (default 500). */
  status?: number;
  /** For `slow`: how long before handling (default 1000 ms). */
  delayMs?: number;
  /** Fail this many matching requests (default 1; `Infinity` until `clearFailures()`). */
  times?: number;
  /** Only requests about this run. */
  runId?: string;
}

export class Failures {
  #rules: Array<FailureRule & { left: number }> = [];

  add(rule: FailureRule): void {
    if (!["create", "get", "resume", "cancel", "*"].includes(rule.route)) throw new Error(`fail: unknown route "${rule.route}" (create, get, resume, cancel or *)`);
    if (!["unreachable", "status", "malformed", "lost", "slow"].includes(rule.kind)) throw new Error(`fail: unknown kind "${rule.kind}"`);
    this.#rules.push({ ...rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.#rules = [];
  }

  /** The rule this request fails by, if any (consumes one use). */
  take(route: Route | undefined, runId: string | undefined): FailureRule | undefined {
    const rule = this.#rules.find((r) => r.left > 0 && (r.route === "*" || r.route === route) && (r.runId === undefined || r.runId === runId));
    if (!rule) return undefined;
    rule.left--;
    return rule;
  }
}
