import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers.ts";
import { fuzzBody, prng, type Template } from "./fuzz-bodies.ts";
import { TOKENS, useWebBots, type WebBot } from "./web-setup.ts";

/**
 * Generated bodies to every route that takes JSON: no answer is a 500, every 4xx is JSON
 * `{error, message}` without a stack, and the bot is healthy afterwards. FUZZ_SEED=<n>
 * reproduces a run (the seed is in the failure); FUZZ_RUNS=<n> sets the bodies per route.
 */
const start = useWebBots(afterEach);

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_122);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const BODY_LIMIT = 65_536;
/** Requests in flight at once: a few, so the run is quick but the order stays close to the seed's. */
const PARALLEL = 4;

const str = (value: string) => () => JSON.stringify(value);

interface Target {
  method: string;
  path: string;
  template: Template;
  /** Send an Idempotency-Key sometimes. */
  idempotent?: boolean;
}

async function targets(w: WebBot): Promise<Target[]> {
  const session = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
  const renamed = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
  const started = (await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "owls" } } })).body.taskId;
  await eventually(async () => (await w.call("GET", `/api/v1/tasks/${started}`)).body.status === "waiting", 10_000, "the task's question");
  const schedule = (await w.call("POST", "/api/v1/schedules", { body: { sessionId: session, cron: "0 9 * * *", text: "Stand-up" } })).body.id;
  return [
    { method: "POST", path: "/api/v1/sessions", template: { topic: str("Owls") } },
    { method: "PATCH", path: `/api/v1/sessions/${renamed}`, template: { topic: str("Renamed") } },
    { method: "POST", path: `/api/v1/sessions/${session}/messages`, template: { text: str("owls") }, idempotent: true },
    { method: "POST", path: "/api/v1/tasks", template: { workflow: str("demo"), input: () => '{"text":"owls"}', sessionId: str(session) }, idempotent: true },
    { method: "POST", path: `/api/v1/tasks/${started}/answer`, template: { choice: () => "1" } },
    { method: "POST", path: `/api/v1/tasks/${started}/review`, template: { approved: () => "true", feedback: str("ok") } },
    { method: "POST", path: `/api/v1/tasks/${started}/cancel`, template: {} },
    { method: "POST", path: "/api/v1/schedules", template: { sessionId: str(session), cron: str("0 9 * * 1-5"), workflow: str("demo"), input: () => '{"text":"owls"}' } },
    { method: "POST", path: `/api/v1/schedules/${schedule}/pause`, template: {} },
    { method: "POST", path: `/api/v1/schedules/${schedule}/resume`, template: {} },
    { method: "POST", path: "/api/qa", template: { question: str("a short summary of owls") } },
  ];
}

/** What is wrong with one answer, or undefined. */
function judge(status: number, contentType: string | null, text: string): string | undefined {
  if (status >= 500) return `status ${status}: ${text.slice(0, 200)}`;
  if (status < 400) return undefined;
  if (!contentType?.startsWith("application/json")) return `status ${status} with Content-Type ${contentType}`;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  if (typeof body?.error !== "string" || typeof body?.message !== "string") return `status ${status} without {error, message}: ${text.slice(0, 200)}`;
  if (/\bat .+:\d+:\d+|Error:|node_modules|\/src\//.test(body.message)) return `status ${status} shows internals: ${body.message.slice(0, 200)}`;
  return undefined;
}

describe("fuzzing the JSON routes", () => {
  it(`sends ${RUNS} generated bodies to each route: no 500, every 4xx is {error, message}, the bot stays healthy (FUZZ_SEED=${SEED})`, async () => {
    const w = await start({ web: { bodyLimitBytes: BODY_LIMIT, rateLimit: { requestsPerMinute: 1_000_000, tasksPerMinute: 1_000_000 } } });
    const r = prng(SEED);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const jobs: Array<() => Promise<void>> = [];
    for (const target of await targets(w)) {
      for (let run = 0; run < RUNS; run++) {
        const body = fuzzBody(r, target.template, { bodyLimitBytes: BODY_LIMIT });
        const key = target.idempotent && r.chance(0.3) ? `k-${r.int(5)}` : undefined;
        jobs.push(async () => {
          const response = await fetch(`${w.url}${target.path}`, {
            method: target.method,
            headers: { Authorization: `Bearer ${TOKENS.alice}`, ...(body.contentType ? { "Content-Type": body.contentType } : {}), ...(key ? { "Idempotency-Key": key } : {}) },
            body: new Uint8Array(body.bytes),
          });
          const text = await response.text();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const problem = judge(response.status, response.headers.get("content-type"), text);
          if (problem) failures.push(`${target.method} ${target.path} #${run} (${body.how}, ${body.bytes.length} bytes${key ? `, key ${key}` : ""}): ${problem}`);
        });
      }
    }
    for (let at = 0; at < jobs.length; at += PARALLEL) await Promise.all(jobs.slice(at, at + PARALLEL).map((job) => job()));

    expect(failures, `FUZZ_SEED=${SEED} reproduces this run; statuses: ${JSON.stringify(Object.fromEntries(statuses))}`).toEqual([]);
    expect(statuses.get(500) ?? 0).toBe(0);
    // Whatever was stored can be listed, and the bot is healthy.
    for (const path of ["/api/v1/sessions?limit=200", "/api/v1/tasks?limit=200", "/api/v1/schedules"]) expect((await w.call("GET", path)).status, `${path} (FUZZ_SEED=${SEED})`).toBe(200);
    const health = await w.call("GET", "/healthz", { as: null });
    expect(health.status, `FUZZ_SEED=${SEED}`).toBe(200);
    expect(health.body.status).toBe("ok");
  }, 120_000);
});
