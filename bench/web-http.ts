/**
 * Submissions over HTTP beside the same submissions in process (issue 11), part of
 * `npm run bench -- web` (bench/web.ts). Target: HTTP overhead < 30%.
 *
 * - messages: a person's message, `POST /api/v1/sessions/{id}/messages` (50 sessions writing
 *   at once, one message after another in each, every message starting a trivial `echo`
 *   task), beside `bot.handle` of the same message events: the comparison the target names.
 *   A third variant is the floor of any HTTP front end on Node: a bare `node:http` server that
 *   reads the JSON body and calls `bot.handle`, with no routing, auth, validation, limits or
 *   metrics. On the memory store (the engine's own cost is smallest there, so the HTTP share
 *   is largest), then on lowdb, the default store.
 * - tasks: `POST /api/v1/tasks` beside the route's own work in process (look up the
 *   workflow, validate the input, open a web session and submit: `bot.startTask`).
 * - the API layer alone: server CPU per request with an engine that answers at once (the
 *   bot's `handle` replaced), for the chatflow API and the bare server, and an authenticated
 *   `GET /api/v1/me`: what the HTTP layer costs without the engine's work.
 *
 * The HTTP clients run in a child process (raw node:http on keep-alive connections), as real
 * clients are other processes: the server's CPU time is then its own (both share this
 * machine's 2 cores). Each variant keeps one bot, warm, for all its rounds, as a server runs;
 * a round lasts until every task it started has ended (its `end` event). Rounds are
 * interleaved (bench/compare.ts); the API's rate limits are raised out of the way.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HandleOutcome } from "../src/port/host.ts";
import { newId } from "../src/ids.ts";
import type { Session } from "../src/model.ts";
import { compareVariants, measure, overheadFigures, spread, type Rate } from "./compare.ts";
import { startBot, TOKEN, USER, type StoreKind, type WebHarness } from "./web-harness.ts";

/** Rounds long enough for a steady state (short ones weigh each round's start and tail). */
const RUN = { perRound: 5000, inFlight: 50, rounds: 6, warmup: 2 };
/** On lowdb (the default store), a few shorter rounds: it is 3–4 times slower. */
const LOWDB_RUN = { perRound: 3000, inFlight: 50, rounds: 4, warmup: 1 };
const LAYER = { requests: 20_000, warmup: 10_000, rounds: 3 };
/**
 * The runner's concurrency: its maximum, so that neither variant waits for a slot (tasks are
 * short; a slot is held until the task has ended).
 */
const TASK_CONCURRENCY = 1000;

/**
 * The HTTP clients, in a child process (plain JavaScript). Each job: `count` requests on
 * keep-alive connections, one request at a time per connection; answers `{ rejected, retried }`
 * (answers other than the expected status; requests sent again, below).
 *
 * A server may close a keep-alive connection it has kept idle long enough (Node's default is
 * 5 s; chatflow's 65 s) at the moment the client sends on it: the request then fails with
 * ECONNRESET (or EPIPE) before the server read any of it. As Node's documentation advises
 * (request.reusedSocket), such a request is sent once more, on a fresh connection.
 */
const LOAD_CLIENT = String.raw`
const http = require("node:http");
const { token, inFlight } = JSON.parse(process.env.LOAD_CLIENT);
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
let sequence = 0;
let retried = 0;
function call(target, path, body, again = true) {
  return new Promise((resolve) => {
    const headers = { Authorization: "Bearer " + token };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; headers["Content-Length"] = Buffer.byteLength(body); }
    const request = http.request({ agent, hostname: target.hostname, port: target.port, path, method: body === undefined ? "GET" : "POST", headers }, (response) => {
      response.on("data", () => undefined);
      response.on("end", () => resolve(response.statusCode));
      response.on("error", () => resolve(0));
    });
    request.on("error", (error) => {
      if (again && request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
        retried++;
        resolve(call(target, path, body, false));
      } else resolve(0);
    });
    request.end(body);
  });
}
process.on("message", async (job) => {
  const target = new URL(job.url);
  let next = 0;
  let rejected = 0;
  retried = 0;
  const want = job.kind === "me" ? 200 : 202;
  const lanes = job.kind === "messages" ? job.sessionIds.length : inFlight;
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    while (next < job.count) {
      next++;
      const i = sequence++;
      const [path, body] =
        job.kind === "messages" ? ["/api/v1/sessions/" + job.sessionIds[lane] + "/messages", JSON.stringify({ text: "hello " + i })]
        : job.kind === "tasks" ? ["/api/v1/tasks", JSON.stringify({ workflow: "echo", input: { text: "hello " + i } })]
        : ["/api/v1/me", undefined];
      if ((await call(target, path, body)) !== want) rejected++;
    }
  }));
  process.send({ rejected, retried });
});
`;

type LoadJob = { url: string } & ({ kind: "messages"; sessionIds: string[]; count: number } | { kind: "tasks" | "me"; count: number });

/** Requests the load clients sent again after a reset on a reused connection, since the process started. */
let sentAgain = 0;

/** The load client process; `run` sends one job and resolves with its rejected count (the resent ones are counted in `sentAgain`). */
async function loadClient(inFlight: number): Promise<{ run(job: LoadJob): Promise<number>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["-e", LOAD_CLIENT], { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, LOAD_CLIENT: JSON.stringify({ token: TOKEN, inFlight }) } });
  await new Promise<void>((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  let stopping = false;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    run: (job) =>
      new Promise((resolve, reject) => {
        child.once("message", (answer) => {
          const { rejected, retried } = answer as { rejected: number; retried: number };
          sentAgain += retried;
          resolve(rejected);
        });
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

/**
 * The floor of an HTTP front end on Node: `node:http`, the body read and parsed, the session's
 * channel looked up in a map, `bot.handle` called, 202 with the task id. No routing, auth,
 * validation, limits, metrics or error handling.
 */
async function bareServer(harness: WebHarness, sessions: readonly Session[]): Promise<{ url: string; close(): Promise<void> }> {
  const channels = new Map(sessions.map((s) => [s.id, s.channel]));
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const channel = channels.get(request.url!.split("/")[4]!)!;
      const { text } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { text: string };
      const outcome = await harness.bot.handle({ kind: "message", id: `bare-${newId(8)}`, address: { platform: "web", channel, user: USER, direct: true }, text });
      const body = JSON.stringify({ taskId: outcome.kind === "task" ? outcome.taskId : null });
      response.writeHead(202, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Runner {
  /** Submits `count` items and resolves when every task they started has ended. */
  round(count: number): Promise<Rate>;
  stop(): Promise<void>;
}

/** Counts `end` events of a bot; `until(n)` resolves at the n-th since `reset()`. */
function endCounter(harness: WebHarness) {
  let ended = 0;
  let target = Infinity;
  let reached: () => void = () => undefined;
  const unsubscribe = harness.bot.events.subscribe({}, (event) => {
    if (event.type === "end" && ++ended === target) reached();
  });
  return {
    until(count: number): Promise<void> {
      ended = 0;
      target = count;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${ended} of ${count} tasks ended within 60 s`)), 60_000);
        reached = () => (clearTimeout(timer), resolve());
      });
    },
    stop: unsubscribe,
  };
}

/** A warm bot for one variant: `submit` sends `count` items; the round ends with the last task's end. */
async function runner(submit: (harness: WebHarness, count: number) => Promise<void>, setup?: (harness: WebHarness) => Promise<() => Promise<void>>, storeKind: StoreKind = "memory"): Promise<Runner> {
  const harness = await startBot(TASK_CONCURRENCY, storeKind);
  const teardown = setup ? await setup(harness) : async () => undefined;
  const ends = endCounter(harness);
  return {
    async round(count) {
      const ended = ends.until(count);
      let submitted: Promise<void> = Promise.resolve();
      return measure(
        count,
        () => void (submitted = submit(harness, count)),
        async () => {
          await submitted;
          await ended;
        },
      );
    },
    async stop() {
      ends.stop();
      await teardown();
      await harness.stop();
    },
  };
}

/** The sessions the message variants write in, one per client lane, opened before any round. */
function openSessions(harness: WebHarness): Promise<Session[]> {
  return Promise.all(Array.from({ length: RUN.inFlight }, () => harness.bot.openSession({ platform: "web", channel: `w-${newId(8)}`, user: USER, direct: true })));
}

function expectAll(rejected: number, count: number, what: string): void {
  if (rejected > 0) throw new Error(`${what}: ${rejected} of ${count} requests were not answered as expected`);
}

// ---------------------------------------------------------------- messages

type MessageVariant = "bot.handle" | "chatflow API" | "node:http + bot.handle";

/** A variant's warm runner: 50 sessions opened once, each written in one message after another. */
async function messageRunner(variant: MessageVariant, storeKind: StoreKind): Promise<Runner> {
  let sessions: Session[] = [];
  let client: Awaited<ReturnType<typeof loadClient>> | undefined;
  let url = "";
  let sequence = 0;
  return runner(
    async (harness, count) => {
      if (client) return expectAll(await client.run({ url, kind: "messages", sessionIds: sessions.map((s) => s.id), count }), count, variant);
      let next = 0;
      await Promise.all(
        sessions.map(async (session) => {
          while (next++ < count) {
            const i = sequence++;
            await harness.bot.handle({ kind: "message", id: `m-${i}`, address: { platform: "web", channel: session.channel, user: USER, direct: true }, text: `hello ${i}` });
          }
        }),
      );
    },
    async (harness) => {
      sessions = await openSessions(harness);
      if (variant === "bot.handle") return async () => undefined;
      client = await loadClient(RUN.inFlight);
      const bare = variant === "node:http + bot.handle" ? await bareServer(harness, sessions) : undefined;
      url = bare?.url ?? harness.url;
      return async () => {
        await client!.stop();
        await bare?.close();
      };
    },
    storeKind,
  );
}

async function compareRunners<V extends string>(run: typeof RUN, variants: readonly V[], bare: V, adapter: V, make: (variant: V) => Promise<Runner>) {
  const runners = new Map<V, Runner>();
  for (const variant of variants) runners.set(variant, await make(variant));
  try {
    return await compareVariants({ variants, bare, adapter, rounds: run.rounds, warmup: run.warmup, run: (variant) => runners.get(variant)!.round(run.perRound) });
  } finally {
    for (const r of runners.values()) await r.stop();
  }
}

export async function messageBench(storeKind: StoreKind = "memory"): Promise<Record<string, unknown>> {
  const variants: MessageVariant[] = ["bot.handle", "chatflow API", "node:http + bot.handle"];
  const run = storeKind === "lowdb" ? LOWDB_RUN : RUN;
  const resentBefore = sentAgain;
  const r = await compareRunners(run, variants, "bot.handle", "chatflow API", (variant) => messageRunner(variant, storeKind));
  const cpu = r.ratesPerCpuSecond;
  const vs = (a: MessageVariant, b: MessageVariant) => +((cpu[a]!.median / cpu[b]!.median - 1) * 100).toFixed(1);
  return {
    store: storeKind,
    messagesPerRound: run.perRound,
    inFlight: run.inFlight,
    rounds: run.rounds,
    warmupRounds: run.warmup,
    gcBetweenRounds: r.gcBetweenRounds,
    inProcessPerSecond: r.medians["bot.handle"],
    httpPerSecond: r.medians["chatflow API"],
    bareHttpPerSecond: r.medians["node:http + bot.handle"],
    ...overheadFigures(r),
    bareCpuOverheadPercent: vs("bot.handle", "node:http + bot.handle"),
    apiOverBareCpuPercent: vs("node:http + bot.handle", "chatflow API"),
    requestsSentAgain: sentAgain - resentBefore,
    ratesPerCpuSecond: cpu,
    target: "overhead < 30%",
  };
}

// ---------------------------------------------------------------- tasks

type TaskVariant = "in process" | "chatflow API";

async function taskRunner(variant: TaskVariant): Promise<Runner> {
  let client: Awaited<ReturnType<typeof loadClient>> | undefined;
  let sequence = 0;
  const user = { id: USER, reviewer: false };
  // What POST /api/v1/tasks does after authentication and body validation (src/api/routes/tasks.ts).
  const submitOne = async (harness: WebHarness, i: number) => {
    await harness.bot.startTask({ workflow: "echo", input: { text: `hello ${i}` }, address: { platform: "web", channel: `w-${newId(8)}`, user: user.id, direct: true } });
  };
  return runner(
    async (harness, count) => {
      if (client) return expectAll(await client.run({ url: harness.url, kind: "tasks", count }), count, variant);
      let next = 0;
      await Promise.all(
        Array.from({ length: RUN.inFlight }, async () => {
          while (next++ < count) await submitOne(harness, sequence++);
        }),
      );
    },
    async () => {
      if (variant === "in process") return async () => undefined;
      client = await loadClient(RUN.inFlight);
      return () => client!.stop();
    },
  );
}

export async function taskBench(): Promise<Record<string, unknown>> {
  const resentBefore = sentAgain;
  const r = await compareRunners<TaskVariant>(RUN, ["in process", "chatflow API"], "in process", "chatflow API", taskRunner);
  return {
    tasksPerRound: RUN.perRound,
    inFlight: RUN.inFlight,
    taskConcurrency: TASK_CONCURRENCY,
    rounds: RUN.rounds,
    warmupRounds: RUN.warmup,
    gcBetweenRounds: r.gcBetweenRounds,
    inProcessPerSecond: r.medians["in process"],
    httpPerSecond: r.medians["chatflow API"],
    ...overheadFigures(r),
    requestsSentAgain: sentAgain - resentBefore,
    ratesPerCpuSecond: r.ratesPerCpuSecond,
    target: "overhead < 30%",
  };
}

// ---------------------------------------------------------------- the API layer alone

const answerAtOnce = async (): Promise<HandleOutcome> => ({ kind: "task", taskId: "t-bench" });

/**
 * Server CPU per request, in µs, with an engine that answers at once: what each HTTP layer
 * costs by itself (its median over rounds, after a warm-up).
 */
export async function layerBench(): Promise<Record<string, unknown>> {
  const harness = await startBot(TASK_CONCURRENCY);
  const sessions = await openSessions(harness);
  harness.bot.handle = answerAtOnce;
  const bare = await bareServer(harness, sessions);
  const client = await loadClient(RUN.inFlight);
  const sessionIds = sessions.map((s) => s.id);
  const resentBefore = sentAgain;
  const jobs = {
    "chatflow API: POST message": (count: number): LoadJob => ({ url: harness.url, kind: "messages", sessionIds, count }),
    "node:http: POST message": (count: number): LoadJob => ({ url: bare.url, kind: "messages", sessionIds, count }),
    "chatflow API: GET /me": (count: number): LoadJob => ({ url: harness.url, kind: "me", count }),
  };
  const micros: Record<string, number[]> = {};
  try {
    for (let i = 0; i < LAYER.rounds + 1; i++) {
      for (const [name, job] of Object.entries(jobs)) {
        const count = i === 0 ? LAYER.warmup : LAYER.requests;
        let rejected = 0;
        const rate = await measure(count, () => undefined, async () => void (rejected = await client.run(job(count))));
        expectAll(rejected, count, name);
        if (i > 0) (micros[name] ??= []).push(1e6 / rate.cpu);
      }
    }
  } finally {
    await client.stop();
    await bare.close();
    await harness.stop();
  }
  return {
    requestsPerRound: LAYER.requests,
    rounds: LAYER.rounds,
    requestsSentAgain: sentAgain - resentBefore,
    serverCpuMicrosecondsPerRequest: Object.fromEntries(Object.entries(micros).map(([name, values]) => [name, spread(values, 1)])),
  };
}
