import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { waitForCondition } from "../wait.ts";
import { Failures, type FailureRule } from "./failures.ts";
import { checkCreateBody, checkResumeBody, matchRoute, parseBody, readBody, redactHeaders, send, sendMalformed, type CreateRunBody, type Route, type WorkflowResult } from "./protocol.ts";
import { DEFAULT_SCRIPT, Runs, stateOf, type FakeRun, type Script } from "./runs.ts";

/**
 * A fake remote workflow service for tests: node:http on 127.0.0.1, port 0, serving the
 * contract in README.md (`POST /runs`, `GET /runs/{id}`, `POST /runs/{id}/resume`,
 * `POST /runs/{id}/cancel`). Runs follow scripts the test gives, moved on by the test
 * (`advance`, `complete`, `failRun`) or, optionally, on every poll or on a timer. Failures on
 * demand, optional auth, a restart that keeps the runs, and a record of every request.
 */

/** Required credentials: a bearer token (`Authorization: Bearer <token>`) or an API key header. */
export type AuthOption = { bearer: string } | { apiKey: string; header?: string };

/** How runs move on by themselves: on every `GET` of the run, or every `everyMs`. Manual if absent. */
export type AutoAdvance = "poll" | { everyMs: number };

export interface FakeWorkflowServiceOptions {
  /** The script of new runs (default `DEFAULT_SCRIPT`): phases, or a function of the create body. */
  script?: Script;
  /** Default: none (only `advance()` & co. move runs). */
  autoAdvance?: AutoAdvance;
  /** Require credentials (401 `{error}` without them). Default: none. */
  auth?: AuthOption;
}

/** One request as the fake received it (secret headers redacted). */
export interface RecordedRequest {
  at: number;
  method: string;
  /** Path relative to the base, e.g. `/runs/run-1/resume`. */
  path: string;
  route?: Route;
  runId?: string;
  /** The parsed JSON body; the raw text if it wasn't JSON; undefined if empty. */
  body?: unknown;
  headers: Record<string, string>;
  /** The status answered (0: the socket was destroyed); undefined until answered. */
  status?: number;
  /** The injected failure it got, if any. */
  failure?: FailureRule["kind"];
}

export class FakeWorkflowService {
  /** Every request, in arrival order (across restarts). */
  readonly requests: RecordedRequest[] = [];
  /** Requests that break the contract (client tests assert this stays empty). */
  readonly violations: string[] = [];
  /** The script new runs get (change it between runs). */
  script: Script;
  /** See `AutoAdvance` (undefined: manual). */
  autoAdvance: AutoAdvance | undefined;

  readonly #auth: AuthOption | undefined;
  readonly #events = new EventEmitter();
  readonly #runs = new Runs(() => this.#events.emit("change"));
  /** Idempotency-Key of a POST /runs → the run it started. */
  readonly #byKey = new Map<string, string>();
  readonly #failures = new Failures();
  readonly #server: Server;
  #port = 0;
  #up = false;
  #timer: NodeJS.Timeout | undefined;
  /** For `{everyMs}`: how many timed advances each run has had. */
  readonly #ticks = new Map<string, number>();

  constructor(options: FakeWorkflowServiceOptions = {}) {
    this.script = options.script ?? DEFAULT_SCRIPT;
    this.autoAdvance = options.autoAdvance;
    this.#auth = options.auth;
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#server.keepAliveTimeout = 120_000;
    this.#events.setMaxListeners(100);
  }

  /** Listens on 127.0.0.1: a free port the first time, the same port after `stop()`. */
  async start(): Promise<this> {
    if (this.#up) return this;
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#up = true;
    if (this.#timer === undefined) this.#timer = setInterval(() => this.#tick(), 5).unref();
    this.#events.emit("change");
    return this;
  }

  /** Stops listening and drops open connections (clients get connection errors); runs are kept. */
  async stop(): Promise<void> {
    if (!this.#up) return;
    this.#up = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    this.#events.emit("change");
  }

  /** `stop()` then `start()` on the same port: the service restarted, its runs kept. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops for good. */
  async close(): Promise<void> {
    await this.stop();
  }

  /** `http://127.0.0.1:PORT`: the base the client is configured with (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Whether it is listening. */
  get up(): boolean {
    return this.#up;
  }

  // ---- runs ------------------------------------------------------------------------------

  /** All runs, in creation order. */
  get runs(): readonly FakeRun[] {
    return this.#runs.list;
  }

  /** A run by id (throws if unknown: a test mistake). */
  run(id: string): FakeRun {
    const run = this.#runs.get(id);
    if (!run) throw new Error(`no run ${id} (runs: ${this.#runs.list.map((r) => r.id).join(", ") || "none"})`);
    return run;
  }

  /** Moves a running run `steps` phases on (no-op while interrupted or finished). */
  advance(runId: string, steps = 1): FakeRun {
    const run = this.run(runId);
    this.#runs.advance(run, steps);
    return run;
  }

  /** Advances until the run is interrupted or finished (or its script ends). */
  advanceToEnd(runId: string): FakeRun {
    return this.advance(runId, Number.MAX_SAFE_INTEGER);
  }

  /** Completes the run now with this result (default: the last result of its script, else "done"). */
  complete(runId: string, result?: WorkflowResult): FakeRun {
    const run = this.run(runId);
    const scripted = [...run.script].reverse().find((p) => "result" in p);
    this.#runs.end(run, result ? { result } : scripted && "result" in scripted ? scripted : { result: { text: "done" } });
    return run;
  }

  /** Fails the run now with this error. */
  failRun(runId: string, error: string): FakeRun {
    const run = this.run(runId);
    this.#runs.end(run, { fail: error });
    return run;
  }

  /** Cancels the run as `POST /cancel` would. */
  cancel(runId: string): FakeRun {
    const run = this.run(runId);
    this.#runs.cancel(run);
    return run;
  }

  /** Resumes the run as `POST /resume` would (throws unless interrupted). */
  resume(runId: string, answer: string): FakeRun {
    const run = this.run(runId);
    if (run.status !== "interrupted") throw new Error(`${runId} is ${run.status}, not interrupted`);
    this.#runs.resume(run, answer);
    return run;
  }

  /** The service loses the run: its routes answer 404 from now on (no violation). */
  forget(runId: string): void {
    this.#runs.forget(runId);
  }

  // ---- failures --------------------------------------------------------------------------

  /** Fails matching requests before they are handled (see `FailureRule`). */
  fail(rule: FailureRule): void {
    this.#failures.add(rule);
  }

  /** Removes all failure rules. */
  clearFailures(): void {
    this.#failures.clear();
  }

  // ---- waiting ---------------------------------------------------------------------------

  /** Resolves with the first value of `condition` other than undefined/false (checked on every change and every 10 ms). */
  waitUntil<T>(condition: () => T | undefined | false, timeoutMs = 5000, what = "the condition"): Promise<T> {
    return waitForCondition(this.#events, condition, timeoutMs, what, () => this.#summary());
  }

  /** The first recorded request matching. */
  waitForRequest(match: (r: RecordedRequest) => boolean, timeoutMs = 5000): Promise<RecordedRequest> {
    return this.waitUntil(() => this.requests.find((r) => r.status !== undefined && match(r)), timeoutMs, "a matching request");
  }

  /** The run once it has this status. */
  waitForStatus(runId: string, status: FakeRun["status"], timeoutMs = 5000): Promise<FakeRun> {
    return this.waitUntil(() => { const run = this.#runs.get(runId); return run?.status === status && run; }, timeoutMs, `${runId} ${status}`);
  }

  #summary(): string {
    const runs = this.#runs.list.map((r) => `${r.id}:${r.status}@${r.phase}`).join(" ");
    const requests = this.requests.slice(-20).map((r) => `${r.method} ${r.path} ${r.status ?? "…"}${r.failure ? `(${r.failure})` : ""}`).join("; ");
    return `Runs: ${runs || "none"}. Requests: ${requests || "none"}. Violations: ${this.violations.join("; ") || "none"}.`;
  }

  #tick(): void {
    const auto = this.autoAdvance;
    if (typeof auto !== "object") return;
    const now = Date.now();
    for (const run of this.#runs.list) {
      if (run.status !== "running") continue;
      const due = Math.floor((now - run.createdAt) / auto.everyMs);
      if (due > (this.#ticks.get(run.id) ?? 0)) {
        this.#ticks.set(run.id, due);
        this.#runs.advance(run);
      }
    }
  }

  // ---- the server ------------------------------------------------------------------------

  #violation(text: string): void {
    this.violations.push(text);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname.replace(/\/+$/, "") || "/";
    const raw = await readBody(req);
    const parsed = parseBody(raw);
    const target = matchRoute(method, path);
    const record: RecordedRequest = { at: Date.now(), method, path, headers: redactHeaders(req.headers) };
    if (target) record.route = target.route;
    if (target?.runId !== undefined) record.runId = target.runId;
    if (parsed.body !== undefined) record.body = parsed.body;
    else if (parsed.invalid !== undefined) record.body = parsed.invalid;
    this.requests.push(record);
    const failure = this.#failures.take(target?.route, target?.runId);
    if (failure) record.failure = failure.kind;
    if (failure?.kind === "slow") {
      await new Promise((resolve) => setTimeout(resolve, failure.delayMs ?? 1000));
      if (res.destroyed) return void (record.status = 0);
    }
    const answer = (status: number, payload?: unknown) => {
      if (failure?.kind === "lost") {
        record.status = 0;
        req.socket.destroy();
      } else {
        record.status = status;
        send(res, status, payload);
      }
      this.#events.emit("change");
    };

    if (failure && failure.kind !== "slow" && failure.kind !== "lost") {
      if (failure.kind === "unreachable") {
        record.status = 0;
        req.socket.destroy();
        this.#events.emit("change");
        return;
      }
      if (failure.kind === "malformed") {
        record.status = target?.route === "create" ? 201 : target?.route === "get" ? 200 : 202;
        sendMalformed(res, record.status);
        this.#events.emit("change");
        return;
      }
      const status = failure.status ?? 500;
      return answer(status, { error: `injected ${status}` });
    }

    if (!this.#authorized(req)) {
      this.#violation(`${method} ${path}: missing or wrong credentials`);
      return answer(401, { error: "unauthorized" });
    }
    if (!target) {
      this.#violation(`${method} ${path}: no such route in the contract`);
      return answer(404, { error: `no route ${method} ${path}` });
    }
    if (parsed.invalid !== undefined) {
      this.#violation(`${method} ${path}: body is not valid JSON`);
      return answer(400, { error: "body is not valid JSON" });
    }
    if (parsed.body !== undefined && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
      this.#violation(`${method} ${path}: a JSON body without Content-Type: application/json`);
    }

    if (target.route === "create") {
      const problems = checkCreateBody(parsed.body);
      if (problems.length > 0) {
        problems.forEach((p) => this.#violation(p));
        return answer(400, { error: problems.join("; ") });
      }
      // Idempotency-Key (optional in the contract): a repeated key gets the run it started.
      const key = req.headers["idempotency-key"];
      const known = typeof key === "string" ? this.#byKey.get(key) : undefined;
      if (known) {
        record.runId = known;
        return answer(200, { run_id: known });
      }
      const run = this.#runs.create(parsed.body as CreateRunBody, this.script);
      if (typeof key === "string") this.#byKey.set(key, run.id);
      record.runId = run.id;
      return answer(201, { run_id: run.id });
    }

    const runId = target.runId!;
    const run = this.#runs.get(runId);
    if (!run) {
      if (!this.#runs.forgotten.has(runId)) this.#violation(`${method} ${path}: unknown run ${runId}`);
      return answer(404, { error: `unknown run ${runId}` });
    }

    switch (target.route) {
      case "get":
        run.polls++;
        if (this.autoAdvance === "poll") this.#runs.advance(run);
        return answer(200, stateOf(run));
      case "resume": {
        const problems = checkResumeBody(parsed.body, runId);
        if (problems.length > 0) {
          problems.forEach((p) => this.#violation(p));
          return answer(400, { error: problems.join("; ") });
        }
        if (run.status !== "interrupted") {
          // Repeating the answer the run last accepted is a retry after a lost response: 409, but no violation.
          const answer_ = (parsed.body as { answer: string }).answer;
          const retry = run.answers.length > 0 && run.answers.at(-1) === answer_ && !run.cancelled;
          if (!retry) this.#violation(`POST ${path}: resume while ${run.status}${run.cancelled ? " (cancelled)" : ""}`);
          return answer(409, { error: `run ${runId} is ${run.status}, not interrupted` });
        }
        this.#runs.resume(run, (parsed.body as { answer: string }).answer);
        return answer(202, {});
      }
      case "cancel":
        if (run.cancelled) return answer(202, {});
        if (run.status === "completed" || run.status === "failed") return answer(409, { error: `run ${runId} is already ${run.status}` });
        this.#runs.cancel(run);
        return answer(202, {});
    }
  }

  #authorized(req: IncomingMessage): boolean {
    const auth = this.#auth;
    if (!auth) return true;
    if ("bearer" in auth) return req.headers.authorization === `Bearer ${auth.bearer}`;
    return req.headers[(auth.header ?? "x-api-key").toLowerCase()] === auth.apiKey;
  }
}

/** A started fake (127.0.0.1, a free port). */
export function startFakeWorkflowService(options?: FakeWorkflowServiceOptions): Promise<FakeWorkflowService> {
  return new FakeWorkflowService(options).start();
}

export type { FailureKind, FailureRule } from "./failures.ts";
export type { CreateRunBody, Route, RunState, RunStatus, WorkflowInterrupt, WorkflowLink, WorkflowResult } from "./protocol.ts";
export { DEFAULT_SCRIPT, type FakeRun, type Phase, type Script } from "./runs.ts";
