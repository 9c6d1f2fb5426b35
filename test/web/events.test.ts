import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers.ts";
import { openSse, type SseClient } from "./sse.ts";
import { startWebBot, TOKENS, type WebBot } from "./web-setup.ts";

/** Live events over SSE and WebSocket, replay on reconnect, /healthz and /metrics after a known run. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof startWebBot>[0] = {}): Promise<WebBot> {
  const w = await startWebBot(options);
  cleanups.push(() => w.stop());
  return w;
}

async function sse(w: WebBot, query: string, headers: Record<string, string> = {}, token: string = TOKENS.alice): Promise<SseClient> {
  const client = await openSse(`${w.url}/api/v1/events${query}`, { Authorization: `Bearer ${token}`, ...headers });
  cleanups.push(() => client.close());
  return client;
}

const types = (events: Array<{ event?: string; type?: string }>) => events.map((e) => e.event ?? e.type);
const ended = (events: Array<{ event?: string; type?: string }>) => types(events).includes("end");

/** Runs the demo through its question and its review in a new session; returns the session and task ids. */
async function demo(w: WebBot, verdict: { approved: boolean; edited?: string } = { approved: true }, session?: string): Promise<{ sessionId: string; taskId: string }> {
  const sessionId = session ?? (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
  const { taskId } = (await w.call("POST", `/api/v1/sessions/${sessionId}/messages`, { body: { text: "owls" } })).body;
  await eventually(async () => (await w.call("GET", `/api/v1/tasks/${taskId}`)).body.waitingFor?.kind === "question", 10_000, "the question");
  await w.call("POST", `/api/v1/tasks/${taskId}/answer`, { body: { choice: 1 } });
  await eventually(async () => (await w.call("GET", `/api/v1/tasks/${taskId}`)).body.waitingFor?.kind === "review", 10_000, "the review");
  await w.call("POST", `/api/v1/tasks/${taskId}/review`, { body: verdict });
  await eventually(async () => ["completed", "failed"].includes((await w.call("GET", `/api/v1/tasks/${taskId}`)).body.status), 10_000, "the end");
  return { sessionId, taskId };
}

/** The typed story of one demo task, in order (progress and messages aside). */
function story(events: Array<{ event?: string; type?: string }>): string[] {
  return types(events).filter((t) => t !== "progress" && t !== "message") as string[];
}

describe("server-sent events", () => {
  it("without session, follow all of the user's sessions, also those opened after connecting (over SSE and the WebSocket); nobody else's", async () => {
    const w = await start();
    const mine = await sse(w, "");
    const ws = new WebSocket(`${w.url.replace("http", "ws")}/api/v1/ws?access_token=${TOKENS.alice}`);
    cleanups.push(() => ws.close());
    const overWs: Array<{ type: string; sessionId: string }> = [];
    ws.on("message", (data) => overWs.push(JSON.parse(String(data))));
    await new Promise((resolve) => ws.once("open", resolve));
    // Bob's task is not Alice's.
    await w.call("POST", "/api/v1/tasks", { as: "bob", body: { workflow: "demo", input: { text: "a short summary of bats" } } });
    // A task started after connecting opens a new session; its events reach the dashboard.
    const started = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "a short summary of owls" } } });
    const { sessionId } = started.body;
    await mine.until((events) => events.some((e) => e.event === "review" && e.data.sessionId === sessionId), 10_000, "the new session's review over SSE");
    await eventually(() => overWs.some((e) => e.type === "review" && e.sessionId === sessionId), 10_000, "the new session's review over the WebSocket");
    expect(new Set(mine.events.filter((e) => e.data?.sessionId).map((e) => e.data.sessionId))).toEqual(new Set([sessionId]));
    expect(new Set(overWs.map((e) => e.sessionId))).toEqual(new Set([sessionId]));
  });

  it("stream a whole demo in order: start, progress, question, answered, review, answered, result, end; ids are the seqs", async () => {
    const w = await start();
    const sessionId = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    const client = await sse(w, `?session=${sessionId}`);
    expect(client.status).toBe(200);
    const { taskId } = await demo(w, { approved: true }, sessionId);
    const events = await client.until(ended, 10_000, "the end");
    expect(story(events)).toEqual(["start", "question", "answered", "review", "answered", "result", "end"]);
    expect(events.filter((e) => e.event === "progress").length).toBeGreaterThan(0);
    const seqs = events.map((e) => Number(e.id));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const e of events) expect(e.data).toMatchObject({ seq: Number(e.id), type: e.event, sessionId });
    const question = events.find((e) => e.event === "question")!;
    expect(question.data).toMatchObject({ taskId, data: { question: "Which kind of answer do you want?", choices: ["Short summary", "Detailed report"] } });
    const result = events.find((e) => e.event === "result")!;
    expect(result.data.data.links).toHaveLength(2);
    expect(events.find((e) => e.event === "end")!.data.data).toEqual({ status: "completed" });
    const messages = events.filter((e) => e.event === "message").map((e) => [e.data.data.role, e.data.data.text]);
    expect(messages[0]).toEqual(["user", "owls"]);
  });

  it("a client that reconnects with Last-Event-ID gets exactly what it missed, nothing twice", async () => {
    const w = await start();
    const sessionId = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    const first = await sse(w, `?session=${sessionId}`);
    const { taskId } = (await w.call("POST", `/api/v1/sessions/${sessionId}/messages`, { body: { text: "owls" } })).body;
    await first.until((events) => types(events).includes("question"), 10_000, "the question");
    first.close();
    const lastSeen = first.events.at(-1)!.id!;
    // Meanwhile, while nobody listens: the answer, the review, the result.
    await w.call("POST", `/api/v1/tasks/${taskId}/answer`, { body: { choice: 2 } });
    await eventually(async () => (await w.call("GET", `/api/v1/tasks/${taskId}`)).body.waitingFor?.kind === "review", 10_000, "the review");
    await w.call("POST", `/api/v1/tasks/${taskId}/review`, { body: { approved: false } });
    await eventually(async () => (await w.call("GET", `/api/v1/tasks/${taskId}`)).body.status === "completed", 10_000, "the end");
    const second = await sse(w, `?session=${sessionId}`, { "Last-Event-ID": lastSeen });
    const rest = await second.until(ended, 10_000, "the end");
    const all = [...first.events, ...rest];
    const stored = await w.bot.events.read({ sessionId }, { limit: 1000 });
    expect(all.map((e) => Number(e.id))).toEqual(stored.map((e) => e.seq));
    expect(story(rest)).toEqual(["answered", "review", "answered", "result", "end"]);
    // ?after=0 replays the session from its start.
    const replay = await sse(w, `?session=${sessionId}&after=0`);
    await replay.until((events) => events.length === stored.length, 10_000, "the whole replay");
  });

  it("follows only what the user may see: another user's session is 404, a bad Last-Event-ID is 400", async () => {
    const w = await start();
    const sessionId = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    expect((await sse(w, `?session=${sessionId}`, {}, TOKENS.bob)).status).toBe(404);
    expect((await sse(w, `?session=${sessionId}`, { "Last-Event-ID": "yesterday" })).status).toBe(400);
    expect((await openSse(`${w.url}/api/v1/events?session=${sessionId}`)).status).toBe(401);
    // Without a session: all of the user's sessions, none of bob's.
    const mine = await sse(w, "?after=0");
    const bobs = (await w.call("POST", "/api/v1/sessions", { as: "bob", body: {} })).body.id;
    await w.call("POST", `/api/v1/sessions/${bobs}/messages`, { as: "bob", body: { text: "/help" } });
    await demo(w, { approved: true }, sessionId);
    const events = await mine.until(ended, 10_000, "the end");
    expect(events.every((e) => e.data.sessionId === sessionId)).toBe(true);
  });
});

describe("the WebSocket", () => {
  it("carries the same events as JSON, and `since` replays what was missed", async () => {
    const w = await start();
    const sessionId = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    const received: any[] = [];
    const socket = new WebSocket(`${w.url.replace("http", "ws")}/api/v1/ws?session=${sessionId}`, { headers: { Authorization: `Bearer ${TOKENS.alice}` } });
    cleanups.push(() => socket.close());
    socket.on("message", (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    await demo(w, { approved: true }, sessionId);
    await eventually(() => ended(received), 10_000, "the end over the WebSocket");
    expect(story(received)).toEqual(["start", "question", "answered", "review", "answered", "result", "end"]);
    const middle = received[Math.floor(received.length / 2)].seq;
    const later: any[] = [];
    const again = new WebSocket(`${w.url.replace("http", "ws")}/api/v1/ws?session=${sessionId}&since=${middle}&access_token=${TOKENS.alice}`);
    cleanups.push(() => again.close());
    again.on("message", (data) => later.push(JSON.parse(String(data))));
    await eventually(() => ended(later), 10_000, "the replay");
    expect(later.map((e) => e.seq)).toEqual(received.filter((e) => e.seq > middle).map((e) => e.seq));
  });

  it("refuses an upgrade without a token with 401, before any socket opens", async () => {
    const w = await start();
    const socket = new WebSocket(`${w.url.replace("http", "ws")}/api/v1/ws`);
    const status = await new Promise<number>((resolve) => socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)).once("error", () => resolve(-1)));
    expect(status).toBe(401);
  });
});

describe("health and metrics", () => {
  it("/healthz reports the store, the scheduler and each adapter; /metrics counts a known run (one approval, one rejection: rate 0.5)", async () => {
    const w = await start();
    const health = await w.call("GET", "/healthz", { as: null });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", version: expect.any(String), store: { ok: true }, scheduler: { enabled: true, running: true }, adapters: { web: { connected: true } } });
    await demo(w, { approved: true });
    await demo(w, { approved: false });
    const text: string = (await w.call("GET", "/metrics", { as: null })).body;
    const value = (line: string) => Number(text.split("\n").find((l) => l.startsWith(line))?.slice(line.length).trim());
    await eventually(async () => Number.isFinite(value("chatflow_review_approval_rate ")), 5000, "the approval rate");
    expect(value("chatflow_review_approval_rate ")).toBe(0.5);
    expect(value('chatflow_reviews_total{verdict="approved"} ')).toBe(1);
    expect(value('chatflow_reviews_total{verdict="rejected"} ')).toBe(1);
    expect(value('chatflow_tasks_finished_total{workflow="demo",status="completed"} ')).toBe(2);
    expect(value('chatflow_tasks{status="completed",workflow="demo"} ')).toBe(2);
    expect(value('chatflow_backlog{state="waiting"} ')).toBe(0);
    expect(value('chatflow_task_duration_seconds_count{workflow="demo",status="completed"} ')).toBe(2);
    expect(value('chatflow_wait_for_people_seconds_count{kind="review"} ')).toBe(2);
    expect(value('chatflow_adapter_calls_total{platform="web",method="send"} ')).toBeGreaterThan(0);
  });
});
