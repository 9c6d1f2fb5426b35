/**
 * Web channel benchmarks (issue 11): the HTTP API of the web adapter (adapters/web) on
 * 127.0.0.1, port 0, with an API token, over the memory store.
 * 1. A person's message over HTTP (POST /api/v1/sessions/{id}/messages; 50 sessions writing
 *    at once, each message starting a trivial `echo` task) beside `bot.handle` of the same
 *    message events: the comparison the target names. Target: HTTP overhead < 30%.
 *    Also POST /api/v1/tasks beside the route's own work in process (look up the workflow,
 *    validate the input, open a web session, `bot.runner.submit`), and an authenticated
 *    GET /api/v1/me (the floor of one API call). The HTTP clients run in a child process
 *    (raw node:http on keep-alive connections), as real clients are other processes: the
 *    server's CPU time is then its own (both share this machine's 2 cores). Measured until every task has ended (its
 *    `end` event), in interleaved rounds (bench/compare.ts), each on a fresh bot (an empty
 *    store); the adapter's rate limits are raised out of the way.
 * 2. Events per second to 1,000 SSE clients (GET /api/v1/events?session=…), in a worker
 *    thread (a raw http.request per connection counting `\n\n`-terminated blocks, so the
 *    clients take the other core rather than the server's thread), every connection open
 *    (its `: connected` comment received) before anything is published. Events are `reply`
 *    events published with `bot.events.publish`, the engine → feed → SSE path the API uses
 *    (the web adapter publishes replies so). Two loads:
 *    - fan-out: 1,000 clients watching one session, the worst case (a shared dashboard, a
 *      broadcast): each event is written 1,000 times;
 *    - spread: 1,000 sessions, one client each, the realistic load of a web chat (each
 *      person watches their own conversation): each event is written once, but the feed
 *      still matches it against all 1,000 subscriptions.
 *    Each load first as a burst (events published as fast as the feed takes them: the
 *    throughput; latencies then include the queue behind the burst), then paced at a steady
 *    rate for a few seconds (the latency target's figure). Latency: from the publish call to
 *    the chunk's arrival at the client (both clocks are performance.timeOrigin + now(), in
 *    one process), over every (event, client) pair: p50, p99, max. Target: p99 < 50 ms.
 * Run: `npm run bench -- web` (or `node --expose-gc --import tsx bench/web.ts`); JSON on stdout,
 * a summary with the machine on stderr. About a minute on 2 cores.
 */
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { createWebAdapter } from "../adapters/web/index.ts";
import { addressIn } from "../src/api/access.ts";
import { createBot, type Bot } from "../src/app.ts";
import { newId } from "../src/ids.ts";
import { silentLogger } from "../src/logger.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import { defineWorkflow } from "../src/tasks/workflow.ts";
import { compareVariants, comparisonLines, measure, overheadFigures, type Rate } from "./compare.ts";
import { machine, machineLine } from "./machine.ts";

const USER = "bench";
const TOKEN = "bench-token-0123456789abcdef";
/** Limits far above what a round submits: this measures the API's cost, not its limits. */
const UNLIMITED = { requestsPerMinute: 100_000_000, tasksPerMinute: 100_000_000 };

const TASKS = { perRound: 1500, inFlight: 50, rounds: 10, warmup: 6 };
/**
 * The runner's concurrency in part 1: its maximum. A run holds its slot until the task's final
 * status is shown, at least the adapter's editIntervalMs (100 ms on the web) after the status
 * was last shown (the `running` edit), even for a task that is done at once: with 50 slots the
 * runner alone would cap both variants at 500 tasks/s (the default 5: 50/s), measuring that
 * wait instead of the API (see `ceiling`).
 */
const TASK_CONCURRENCY = 1000;
const SSE = { clients: 1000, connectBatch: 100 };
/** Burst sizes (under the route's 1,000 queued events per client) and paced rates. */
const FANOUT = { burst: 300, pacedPerSecond: [5, 20], pacedSeconds: 4 };
const SPREAD = { burst: 5000, pacedPerSecond: [1000], pacedSeconds: 4 };

const echo = defineWorkflow({
  name: "echo",
  description: "returns its input (bench)",
  input: z.object({ text: z.string() }),
  async run(_ctx, input) {
    return { text: input.text };
  },
});

interface WebHarness {
  bot: Bot;
  url: string;
  stop(): Promise<void>;
}

async function startBot(concurrency: number): Promise<WebHarness> {
  const web = createWebAdapter({ config: { port: 0, rateLimit: UNLIMITED }, auth: { tokens: new Map([[TOKEN, USER]]) }, logger: silentLogger() });
  const bot = await createBot({
    // Plain messages start the echo workflow (part 1b).
    config: { tasks: { concurrency }, scheduler: { enabled: false }, routes: { default: { message: "echo", commands: {} } } },
    store: createMemoryStore(),
    adapters: [web],
    workflows: [echo],
    logger: silentLogger(),
    env: {},
  });
  await bot.start();
  return { bot, url: web.url!, stop: () => bot.stop() };
}

// ---------------------------------------------------------------- 1. tasks over HTTP

/**
 * - `in process`: the route's work without HTTP (the baseline);
 * - `http`: POST /api/v1/tasks;
 * - `http GET /me (no task)`: the floor of an authenticated, rate-limited API call with this
 *   client and server and no task (shown beside, not part of the target's figure).
 */
type TaskVariant = "in process" | "http" | "http GET /me (no task)";

/**
 * The HTTP clients of parts 1 and 1b, in a child process (plain JavaScript): real clients are
 * other processes, so the server's process does only the server's work, as `bot.handle` does
 * only the engine's, and its CPU time (the "by CPU time" figure) is the server's alone. Each
 * job: `count` requests on keep-alive connections, one request at a time per connection;
 * answers `{ rejected }` (answers other than the expected status).
 */
const LOAD_CLIENT = String.raw`
const http = require("node:http");
const { url, token, inFlight } = JSON.parse(process.env.LOAD_CLIENT);
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
function call(path, body) {
  return new Promise((resolve) => {
    const headers = { Authorization: "Bearer " + token };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; headers["Content-Length"] = Buffer.byteLength(body); }
    const request = http.request({ agent, hostname: target.hostname, port: target.port, path, method: body === undefined ? "GET" : "POST", headers }, (response) => {
      response.on("data", () => undefined);
      response.on("end", () => resolve(response.statusCode));
      response.on("error", () => resolve(0));
    });
    request.on("error", () => resolve(0));
    request.end(body);
  });
}
process.on("message", async (job) => {
  let next = 0;
  let rejected = 0;
  const want = job.kind === "me" ? 200 : 202;
  const lanes = job.kind === "messages" ? job.sessionIds.length : inFlight;
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    while (next < job.count) {
      const i = next++;
      const [path, body] =
        job.kind === "messages" ? ["/api/v1/sessions/" + job.sessionIds[lane] + "/messages", JSON.stringify({ text: "hello " + i })]
        : job.kind === "tasks" ? ["/api/v1/tasks", JSON.stringify({ workflow: "echo", input: { text: "hello " + i } })]
        : ["/api/v1/me", undefined];
      if ((await call(path, body)) !== want) rejected++;
    }
  }));
  process.send({ rejected });
});
`;

type LoadJob = { kind: "messages"; sessionIds: string[]; count: number } | { kind: "tasks" | "me"; count: number };

/** A load client process against `url`; `run` sends one job and resolves with its rejected count. */
async function loadWorker(url: string, inFlight: number): Promise<{ run(job: LoadJob): Promise<number>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["-e", LOAD_CLIENT], { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, LOAD_CLIENT: JSON.stringify({ url, token: TOKEN, inFlight }) } });
  await new Promise<void>((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  let stopping = false;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    run: (job) =>
      new Promise((resolve, reject) => {
        child.once("message", (answer) => resolve((answer as { rejected: number }).rejected));
        void exited.then((code) => stopping || reject(new Error(`the load client exited (${String(code)})`)));
        child.send(job);
      }),
    stop: async () => {
      stopping = true;
      child.kill();
      await exited;
    },
  };
}

/** Runs `count` jobs, `inFlight` at a time. */
async function pool(count: number, inFlight: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

/** A fresh bot; `count` echo tasks submitted by `variant`; the clock stops when the last task has ended. */
async function runTasks(variant: TaskVariant, count: number, inFlight: number): Promise<Rate> {
  const harness = await startBot(TASK_CONCURRENCY);
  const { bot } = harness;
  let ended = 0;
  let completed = 0;
  let allEnded: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allEnded = resolve));
  const unsubscribe = bot.events.subscribe({}, (event) => {
    if (event.type !== "end") return;
    ended++;
    if (event.data.status === "completed") completed++;
    if (ended === count) allEnded();
  });
  const user = { id: USER, reviewer: false };
  const load = variant === "in process" ? undefined : await loadWorker(harness.url, inFlight);
  let rejected = 0;
  let submitted: Promise<void> = Promise.resolve();
  if (variant === "http GET /me (no task)") allEnded();
  // What POST /api/v1/tasks does after authentication and body validation (src/api/routes/tasks.ts).
  const submit = async (i: number) => {
    const workflow = bot.workflows.get("echo")!;
    const parsed = workflow.input!.safeParse({ text: `hello ${i}` });
    if (!parsed.success) throw new Error("bad input");
    const session = await bot.openSession({ platform: "web", channel: `w-${newId(8)}`, user: USER, direct: true });
    await bot.runner.submit({ sessionId: session.id, address: addressIn(session, user), workflow: workflow.name, input: parsed.data });
  };
  const rate = await measure(
    count,
    () =>
      (submitted = load
        ? load.run({ kind: variant === "http" ? "tasks" : "me", count }).then((n) => void (rejected = n))
        : pool(count, inFlight, submit)),
    async () => {
      await submitted;
      if (rejected > 0) throw new Error(`${variant}: ${rejected} of ${count} requests were not answered 202/200`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${ended} of ${count} tasks ended within 60 s`)), 60_000)));
      await Promise.race([done, late]).finally(() => clearTimeout(timer));
    },
  );
  if (variant !== "http GET /me (no task)" && completed !== count) throw new Error(`${count - completed} of ${count} tasks did not complete`);
  unsubscribe();
  await load?.stop();
  await harness.stop();
  return rate;
}

// ---------------------------------------------------------------- 1b. messages over HTTP

/**
 * What the target compares: the same submission over HTTP and in process. A person's
 * message in a session (`POST /api/v1/sessions/{id}/messages`, which hands the engine a message
 * event) beside `bot.handle` of that message event (de-duplication, history, routing, the task
 * submitted): each of the `inFlight` workers writes in its own session, one message after
 * another (a message while the session's task runs is queued behind it, as in a chat). The
 * sessions are opened before the clock starts.
 */
type MessageVariant = "bot.handle" | "http message";

async function runMessages(variant: MessageVariant, count: number, inFlight: number): Promise<Rate> {
  const harness = await startBot(TASK_CONCURRENCY);
  const { bot } = harness;
  let ended = 0;
  let allEnded: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allEnded = resolve));
  const unsubscribe = bot.events.subscribe({}, (event) => {
    if (event.type === "end" && ++ended === count) allEnded();
  });
  const sessions = await Promise.all(Array.from({ length: inFlight }, () => bot.openSession({ platform: "web", channel: `w-${newId(8)}`, user: USER, direct: true })));
  const load = variant === "http message" ? await loadWorker(harness.url, inFlight) : undefined;
  let rejected = 0;
  let submitted: Promise<void> = Promise.resolve();
  let next = 0;
  const inProcess = async (session: (typeof sessions)[number]) => {
    while (next < count) {
      const i = next++;
      await bot.handle({ kind: "message", id: `m-${i}`, address: { platform: "web", channel: session.channel, user: USER, direct: true }, text: `hello ${i}` });
    }
  };
  const rate = await measure(
    count,
    () =>
      (submitted = load
        ? load.run({ kind: "messages", sessionIds: sessions.map((s) => s.id), count }).then((n) => void (rejected = n))
        : Promise.all(sessions.map(inProcess)).then(() => undefined)),
    async () => {
      await submitted;
      if (rejected > 0) throw new Error(`${variant}: ${rejected} of ${count} requests were not answered 202`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${ended} of ${count} tasks ended within 60 s`)), 60_000)));
      await Promise.race([done, late]).finally(() => clearTimeout(timer));
    },
  );
  unsubscribe();
  await load?.stop();
  await harness.stop();
  return rate;
}

export async function messageBench(): Promise<Record<string, unknown>> {
  const variants: MessageVariant[] = ["bot.handle", "http message"];
  const r = await compareVariants({ variants, bare: "bot.handle", adapter: "http message", rounds: TASKS.rounds, warmup: TASKS.warmup, run: (variant) => runMessages(variant, TASKS.perRound, TASKS.inFlight) });
  return {
    messagesPerRound: TASKS.perRound,
    inFlight: TASKS.inFlight,
    rounds: TASKS.rounds,
    warmupRounds: TASKS.warmup,
    gcBetweenRounds: r.gcBetweenRounds,
    inProcessPerSecond: r.medians["bot.handle"],
    httpPerSecond: r.medians["http message"],
    ...overheadFigures(r),
    ratesPerCpuSecond: r.ratesPerCpuSecond,
    target: "overhead < 30%",
  };
}

export async function taskBench(): Promise<Record<string, unknown>> {
  const variants: TaskVariant[] = ["in process", "http", "http GET /me (no task)"];
  const r = await compareVariants({ variants, bare: "in process", adapter: "http", rounds: TASKS.rounds, warmup: TASKS.warmup, run: (variant) => runTasks(variant, TASKS.perRound, TASKS.inFlight) });
  return {
    tasksPerRound: TASKS.perRound,
    inFlight: TASKS.inFlight,
    taskConcurrency: TASK_CONCURRENCY,
    rounds: TASKS.rounds,
    warmupRounds: TASKS.warmup,
    gcBetweenRounds: r.gcBetweenRounds,
    inProcessPerSecond: r.medians["in process"],
    httpPerSecond: r.medians.http,
    httpGetMeRequestsPerSecond: r.medians["http GET /me (no task)"],
    ...overheadFigures(r),
    ratesPerCpuSecond: r.ratesPerCpuSecond,
    target: "overhead < 30%",
  };
}

// ---------------------------------------------------------------- 2. SSE fan-out

/**
 * The SSE clients, in a worker thread (plain JavaScript: no TypeScript loader needed there).
 * Each connection counts `\n\n`-terminated blocks, comments (`:`) apart, and notes the arrival
 * time of the chunk that completed each event; `eventIndex` maps a client's n-th event to the
 * publish order, for the latencies.
 */
const CLIENT_WORKER = String.raw`
const { parentPort } = require("node:worker_threads");
const http = require("node:http");
const now = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: false, maxSockets: 100000 });
let clients = [];
let expected = 0;
let remaining = 0;
let mode = "fanout";

function open(url, token, sessionIds, batch) {
  return new Promise((resolveAll) => {
    let next = 0;
    let connected = 0;
    let failed = 0;
    const target = new URL(url);
    const start = () => {
      if (next >= sessionIds.length) return;
      const index = next++;
      const client = { index, count: 0, first: -1, lastNewline: false, connected: false, times: null, request: null, response: null };
      clients[index] = client;
      const settle = (ok) => {
        if (ok) connected++; else failed++;
        if (connected + failed === sessionIds.length) resolveAll({ connected, failed });
        else start();
      };
      const request = http.request({ agent, hostname: target.hostname, port: target.port, path: "/api/v1/events?session=" + encodeURIComponent(sessionIds[index]), headers: { Authorization: "Bearer " + token, Accept: "text/event-stream" } }, (response) => {
        client.response = response;
        if (response.statusCode !== 200) { response.resume(); return settle(false); }
        response.on("data", (chunk) => onChunk(client, chunk, settle));
        response.on("error", () => undefined);
      });
      request.on("error", () => { if (!client.connected) settle(false); });
      client.request = request;
      request.end();
    };
    for (let i = 0; i < Math.min(batch, sessionIds.length); i++) start();
  });
}

function onChunk(client, chunk, settle) {
  let at = 0;
  let i = 0;
  const length = chunk.length;
  if (client.lastNewline && chunk[0] === 10) { endBlock(client, settle); i = 1; }
  for (;;) {
    if (client.first === -1 && i < length) client.first = chunk[i];
    const end = chunk.indexOf("\n\n", i);
    if (end < 0) break;
    if (client.first !== 58) { if (at === 0) at = now(); }
    endBlock(client, settle, at);
    i = end + 2;
  }
  client.lastNewline = i < length && chunk[length - 1] === 10;
}

function endBlock(client, settle, at) {
  const comment = client.first === 58;
  client.first = -1;
  if (comment) {
    if (!client.connected) { client.connected = true; settle(true); }
    return;
  }
  if (client.times && client.count < client.times.length) client.times[client.count] = at || now();
  client.count++;
  if (client.count === expected) {
    remaining--;
    if (remaining === 0) parentPort.postMessage({ kind: "received", at: now() });
  }
}

parentPort.on("message", async (message) => {
  if (message.kind === "open") {
    clients = [];
    const result = await open(message.url, message.token, message.sessionIds, message.batch);
    parentPort.postMessage({ kind: "opened", ...result });
  } else if (message.kind === "expect") {
    expected = message.perClient;
    mode = message.mode;
    remaining = clients.length;
    for (const client of clients) { client.count = 0; client.times = new Float64Array(expected); }
    parentPort.postMessage({ kind: "expecting" });
  } else if (message.kind === "report") {
    const published = message.publishedAt;
    const latencies = new Float64Array(clients.length * expected);
    let n = 0;
    let first = Infinity;
    let last = 0;
    let short = 0;
    for (const client of clients) {
      if (client.count < expected) short++;
      for (let k = 0; k < Math.min(client.count, expected); k++) {
        const event = mode === "fanout" ? k : k * clients.length + client.index;
        const at = client.times[k];
        latencies[n++] = at - published[event];
        if (at < first) first = at;
        if (at > last) last = at;
      }
    }
    const sorted = latencies.subarray(0, n).sort();
    const q = (p) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(p * n))]);
    parentPort.postMessage({ kind: "report", delivered: n, clientsShort: short, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: n ? sorted[n - 1] : 0, firstAt: first, lastAt: last });
  } else if (message.kind === "close") {
    for (const client of clients) { client.request?.destroy(); client.response?.destroy(); }
    agent.destroy();
    parentPort.postMessage({ kind: "closed" });
  }
});
`;

/** The worker and a request/answer helper over its messages. */
function startClients(): { ask<T>(message: Record<string, unknown>, answer: string, timeoutMs?: number): Promise<T>; next<T>(answer: string, timeoutMs?: number): Promise<T>; stop(): Promise<number> } {
  const worker = new Worker(CLIENT_WORKER, { eval: true, execArgv: [] });
  const next = <T>(answer: string, timeoutMs = 60_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.off("message", listener);
        reject(new Error(`the SSE clients did not answer ${answer} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (message: { kind: string }) => {
        if (message.kind !== answer) return;
        clearTimeout(timer);
        worker.off("message", listener);
        resolve(message as T);
      };
      worker.on("message", listener);
    });
  return {
    next,
    ask<T>(message: Record<string, unknown>, answer: string, timeoutMs?: number) {
      const answered = next<T>(answer, timeoutMs);
      worker.postMessage(message);
      return answered;
    },
    stop: () => worker.terminate(),
  };
}

interface Report {
  delivered: number;
  clientsShort: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  firstAt: number;
  lastAt: number;
}

const wallClock = () => performance.timeOrigin + performance.now();
const round1 = (ms: number) => +ms.toFixed(1);

/**
 * Publishes `count` reply events, to `sessionIds[i % sessions]`: all at once (`perSecond`
 * undefined: each publish awaited, which stores and notifies it) or paced at `perSecond`.
 * Waits until every client has all of its events; returns the delivery rate and latencies.
 */
async function publishPhase(bot: Bot, clients: ReturnType<typeof startClients>, sessionIds: string[], mode: "fanout" | "spread", count: number, perSecond?: number): Promise<Record<string, unknown>> {
  const perClient = mode === "fanout" ? count : count / sessionIds.length;
  await clients.ask({ kind: "expect", perClient, mode }, "expecting");
  const received = clients.next<{ at: number }>("received", 120_000);
  const publishedAt = new Float64Array(count);
  const text = "The quick brown fox jumps over the lazy dog; a reply of a typical length, streamed or not.";
  const cpu = process.cpuUsage();
  const started = wallClock();
  for (let i = 0; i < count; i++) {
    if (perSecond) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - wallClock();
      if (wait > 1) await sleep(wait);
    }
    publishedAt[i] = wallClock();
    const publishing = bot.events.publish({ type: "reply", sessionId: sessionIds[i % sessionIds.length]!, data: { messageId: `r-bench-${i}`, kind: "reply", text } });
    if (!perSecond) await publishing;
  }
  const publishedIn = wallClock() - started;
  const { at } = await received;
  const used = process.cpuUsage(cpu);
  const report = await clients.ask<Report>({ kind: "report", publishedAt }, "report");
  const expectedDeliveries = perClient * SSE.clients;
  if (report.delivered !== expectedDeliveries || report.clientsShort > 0) throw new Error(`SSE: ${report.delivered} of ${expectedDeliveries} deliveries, ${report.clientsShort} clients short`);
  const seconds = (at - started) / 1000;
  return {
    events: count,
    deliveries: report.delivered,
    ...(perSecond ? { pacedEventsPerSecond: perSecond } : { burst: true }),
    publishedInMs: round1(publishedIn),
    lastDeliveryAfterMs: round1(at - started),
    deliveriesPerSecond: Math.round(report.delivered / seconds),
    eventsPublishedPerSecond: Math.round(count / seconds),
    processCpuSeconds: +((used.user + used.system) / 1e6).toFixed(2),
    latencyMs: { p50: round1(report.p50), p90: round1(report.p90), p99: round1(report.p99), max: round1(report.max) },
  };
}

async function sseLoad(mode: "fanout" | "spread", load: { burst: number; pacedPerSecond: number[]; pacedSeconds: number }): Promise<Record<string, unknown>> {
  const harness = await startBot(5);
  const { bot } = harness;
  const clients = startClients();
  try {
    const sessionCount = mode === "fanout" ? 1 : SSE.clients;
    const sessions: string[] = [];
    for (let i = 0; i < sessionCount; i++) sessions.push((await bot.openSession({ platform: "web", channel: `w-bench-${i}`, user: USER, direct: true })).id);
    const perClientSession = Array.from({ length: SSE.clients }, (_, i) => sessions[i % sessions.length]!);
    const openStarted = performance.now();
    const opened = await clients.ask<{ connected: number; failed: number }>({ kind: "open", url: harness.url, token: TOKEN, sessionIds: perClientSession, batch: SSE.connectBatch }, "opened");
    const openMs = performance.now() - openStarted;
    if (opened.connected !== SSE.clients) throw new Error(`SSE: ${opened.connected} of ${SSE.clients} connections opened (${opened.failed} failed)`);
    // Warm-up: a few events through every connection (JIT), not reported.
    await publishPhase(bot, clients, sessions, mode, mode === "fanout" ? 20 : sessions.length);
    (globalThis as { gc?: () => void }).gc?.();
    const burst = await publishPhase(bot, clients, sessions, mode, load.burst);
    const paced: Record<string, unknown>[] = [];
    for (const perSecond of load.pacedPerSecond) {
      (globalThis as { gc?: () => void }).gc?.();
      paced.push(await publishPhase(bot, clients, sessions, mode, perSecond * load.pacedSeconds, perSecond));
    }
    await clients.ask({ kind: "close" }, "closed");
    return {
      clients: SSE.clients,
      sessions: sessionCount,
      clientsPerSession: SSE.clients / sessionCount,
      connectedAll: true,
      openAllMs: Math.round(openMs),
      burst,
      paced,
    };
  } finally {
    await clients.stop();
    await harness.stop();
  }
}

export async function sseBench(): Promise<Record<string, unknown>> {
  return {
    target: "p99 < 50 ms (paced)",
    clientsIn: "a worker thread of this process (raw http.request, blocks counted)",
    fanout: await sseLoad("fanout", FANOUT),
    spread: await sseLoad("spread", SPREAD),
  };
}

export async function runWebBench(): Promise<Record<string, unknown>> {
  const messages = await messageBench();
  const tasks = await taskBench();
  const sse = await sseBench();
  const results = { machine: machine(), messages, tasks, sse };
  // On stderr, so that stdout stays one JSON document (bench/run.ts).
  console.error(summary(results));
  return results;
}

function summary(results: { machine: Record<string, unknown>; messages: Record<string, unknown>; tasks: Record<string, unknown>; sse: Record<string, unknown> }): string {
  const m = results.machine;
  const t = results.tasks;
  const lines = [machineLine("web", m)];
  const msg = results.messages;
  lines.push(`messages (a person's message starting an echo task; ${msg.inFlight} sessions writing at once, to completion): ${msg.messagesPerRound} × ${msg.rounds} interleaved rounds (+${msg.warmupRounds} warm-up), messages/s median (spread):`);
  lines.push(...comparisonLines(msg));
  lines.push(`tasks (echo, ${t.inFlight} in flight, to completion): ${t.tasksPerRound} tasks × ${t.rounds} interleaved rounds (+${t.warmupRounds} warm-up), tasks/s median (spread):`);
  lines.push(...comparisonLines(t));
  for (const name of ["fanout", "spread"] as const) {
    const load = results.sse[name] as Record<string, any>;
    lines.push(`SSE ${name}: ${load.clients} clients on ${load.sessions} session(s), all open in ${load.openAllMs} ms`);
    for (const p of [load.burst, ...load.paced]) {
      const how = p.burst ? `burst of ${p.events} events` : `${p.pacedEventsPerSecond} events/s, ${p.events} events`;
      lines.push(`  ${how}: ${p.deliveries.toLocaleString("en")} deliveries, ${p.deliveriesPerSecond.toLocaleString("en")}/s; latency p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms, max ${p.latencyMs.max} ms${p.burst ? " (queued behind the burst)" : " (target p99 < 50 ms)"}`);
    }
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runWebBench(), null, 2));
}
