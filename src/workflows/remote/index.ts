import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { NonRetriableError, TaskCancelledError, TaskTimeoutError } from "../../errors.ts";
import { defineWorkflow, type Workflow, type WorkflowContext, type WorkflowResult } from "../../tasks/workflow.ts";

/** A remote workflow, as `workflows.remote[]` describes it. */
export interface RemoteWorkflowOptions {
  /** The workflow's name in routes and /help. */
  name: string;
  /** The service's base URL; the contract's routes hang off it (`{url}/runs`). */
  url: string;
  /** Seconds between two polls of a run's state. Default 2. */
  pollSeconds?: number;
  /** Headers sent with every request (e.g. `Authorization`), values already read from the environment. */
  headers?: Record<string, string>;
  description?: string;
}

/** A run's state as `GET {url}/runs/{id}` answers it. */
const runState = z.object({
  status: z.enum(["running", "interrupted", "completed", "failed"]),
  progress: z.number().min(0).max(100).optional(),
  step: z.string().optional(),
  interrupt: z.object({ question: z.string().min(1), choices: z.array(z.string()).optional() }).optional(),
  result: z.object({ text: z.string(), links: z.array(z.object({ url: z.string(), title: z.string().optional() })).optional() }).optional(),
  error: z.string().optional(),
});
type RunState = z.infer<typeof runState>;

/** Where a run stopped moving: a question for the person, or its end. */
type Halt = { kind: "interrupted"; question: string; choices?: string[] } | { kind: "completed"; result: WorkflowResult } | { kind: "failed"; error: string };

/**
 * A workflow whose work runs in another service, over a small HTTP contract (README,
 * "Remote workflows"): the run is started once (its id journaled, so a restart reattaches to
 * it), its progress mirrored, an interrupt asked as a question whose answer resumes the run,
 * the result posted with its links, and a cancel forwarded. Unreachable services, 5xx and
 * malformed answers are retried with the step's backoff; a 4xx is a clear failure.
 */
export function createRemoteWorkflow(options: RemoteWorkflowOptions): Workflow<{ text: string }> {
  const base = options.url.replace(/\/+$/, "");
  const pollMs = Math.max(0.05, options.pollSeconds ?? 2) * 1000;
  const call = async (method: "GET" | "POST", path: string, signal: AbortSignal, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { method, signal, headers: { "content-type": "application/json", ...options.headers, ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new Error(`The ${options.name} service at ${new URL(base).origin} could not be reached: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (response.status >= 400 && response.status < 500) throw new NonRetriableError(`The ${options.name} service refused ${method} ${path}: HTTP ${response.status}${errorOf(text)}`);
    if (!response.ok) throw new Error(`The ${options.name} service answered HTTP ${response.status} to ${method} ${path}${errorOf(text)}`);
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`The ${options.name} service answered ${method} ${path} with something that is not JSON.`);
    }
  };

  /** Polls until the run is interrupted or ends, mirroring its progress. */
  const waitForHalt = async (ctx: WorkflowContext, runId: string, signal: AbortSignal): Promise<Halt> => {
    for (;;) {
      const parsed = runState.safeParse(await call("GET", `/runs/${encodeURIComponent(runId)}`, signal));
      if (!parsed.success) throw new Error(`The ${options.name} service answered a run's state in an unknown shape: ${parsed.error.issues[0]?.message ?? "invalid"}.`);
      const state: RunState = parsed.data;
      if (state.status === "interrupted" && state.interrupt) return { kind: "interrupted", question: state.interrupt.question, ...(state.interrupt.choices?.length ? { choices: state.interrupt.choices } : {}) };
      if (state.status === "completed") return { kind: "completed", result: { text: state.result?.text ?? "(the service sent no text)", ...(state.result?.links?.length ? { links: state.result.links } : {}) } };
      if (state.status === "failed") return { kind: "failed", error: state.error ?? "no reason given" };
      if (state.progress !== undefined) await ctx.progress(Math.round(state.progress), state.step);
      await sleep(pollMs, undefined, { signal });
    }
  };

  return defineWorkflow({
    name: options.name,
    description: options.description ?? `run ${options.name} (a remote workflow)`,
    input: z.object({ text: z.string() }),
    async run(ctx, input) {
      // The task id as the Idempotency-Key: a start retried after a crash (before the run id was
      // journaled) gets the same run from a service that honours it, not a second one.
      const started = await ctx.step("start", async (signal) =>
        z.object({ run_id: z.string().min(1) }).parse(await call("POST", "/runs", signal, { input: input.text, session: ctx.sessionId, user: ctx.user }, { "Idempotency-Key": `chatflow-${ctx.taskId}` })),
      );
      const runId = started.run_id;
      // A cancel (or the task's timeout) is forwarded, best effort; a shutdown is not: the run
      // goes on remotely and the next start reattaches to it.
      const forwardCancel = () => {
        if (!(ctx.signal.reason instanceof TaskCancelledError || ctx.signal.reason instanceof TaskTimeoutError)) return;
        void call("POST", `/runs/${encodeURIComponent(runId)}/cancel`, AbortSignal.timeout(5000)).catch(() => undefined);
      };
      ctx.signal.addEventListener("abort", forwardCancel, { once: true });
      try {
        for (;;) {
          const halt = await ctx.step("wait", (signal) => waitForHalt(ctx, runId, signal));
          if (halt.kind === "completed") return halt.result;
          if (halt.kind === "failed") throw new NonRetriableError(`The ${options.name} run failed: ${halt.error}`);
          const answer = await ctx.ask(halt.question, halt.choices ? { choices: halt.choices } : {});
          await ctx.step("resume", (signal) => call("POST", `/runs/${encodeURIComponent(runId)}/resume`, signal, { answer }));
        }
      } finally {
        ctx.signal.removeEventListener("abort", forwardCancel);
      }
    },
  });
}

function errorOf(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    return typeof error === "string" ? ` (${error.slice(0, 200)})` : "";
  } catch {
    return "";
  }
}
