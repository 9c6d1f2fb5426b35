/**
 * Events per second to 1,000 SSE clients (GET /api/v1/events?session=…) and their latency
 * (issue 11), part of `npm run bench -- web` (bench/web.ts). The clients run in a worker
 * thread (a raw http.request per connection counting `\n\n`-terminated blocks, so they take
 * the other core rather than the server's thread), every connection open (its `: connected`
 * comment received) before anything is published. Events are `reply` events published with
 * `bot.events.publish`, the engine → feed → SSE path the API uses (the web adapter publishes
 * replies so). Two loads:
 * - fan-out: 1,000 clients watching one session, the worst case (a shared dashboard, a
 *   broadcast): each event is written 1,000 times;
 * - spread: 1,000 sessions, one client each, the realistic load of a web chat (each person
 *   watches their own conversation): each event is written once, but the feed still matches
 *   it against all 1,000 subscriptions.
 * Each load first as a burst (events published as fast as the feed takes them: the
 * throughput; latencies then include the queue behind the burst), then paced at a steady rate
 * for a few seconds (the latency target's figure). Latency: from the publish call to the
 * chunk's arrival at the client (both clocks are performance.timeOrigin + now(), in one
 * process), over every (event, client) pair: p50, p99, max. Target: p99 < 50 ms.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import type { Bot } from "../src/app.ts";
import { startBot, TOKEN, USER } from "./web-harness.ts";

const SSE = { clients: 1000, connectBatch: 100 };
/** Burst sizes (under the route's 1,000 queued events per client) and paced rates. */
const FANOUT = { burst: 300, pacedPerSecond: [5, 20], pacedSeconds: 4 };
const SPREAD = { burst: 5000, pacedPerSecond: [1000], pacedSeconds: 4 };

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
