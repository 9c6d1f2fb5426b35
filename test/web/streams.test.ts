import WebSocket from "ws";
import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_CLIENT_FRAME_BYTES } from "../../src/api/routes/events.ts";
import { eventually } from "../helpers.ts";
import { faultyStore } from "../faulty-store.ts";
import { metric, rawRequest, rawSocket, websocketHandshake } from "./raw-http.ts";
import { openSse, type SseClient } from "./sse.ts";
import { TOKENS, useWebBots, type WebBot } from "./web-setup.ts";

/** Live subscriptions end with their response or socket (counted in /metrics); upgrades go to the WebSocket route only; client frames are small. */
const start = useWebBots(afterEach);
const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});

const auth = { Authorization: `Bearer ${TOKENS.alice}` };
const live = (w: WebBot, transport: "sse" | "ws") => metric(w.url, `chatflow_event_subscriptions{transport="${transport}"}`);

async function newSession(w: WebBot): Promise<string> {
  return (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
}

function openSocket(w: WebBot, sessionId: string): Promise<WebSocket> {
  const socket = new WebSocket(`${w.url.replace("http", "ws")}/api/v1/ws?session=${sessionId}`, { headers: auth });
  opened.push(socket);
  return new Promise((resolve, reject) => socket.once("open", () => resolve(socket)).once("error", reject));
}

/** The code the socket closes with; rejects after 10 s (the server kept it open). */
const closeCode = (socket: WebSocket) =>
  new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("The server did not close the socket within 10 s.")), 10_000);
    socket.once("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

describe("event subscriptions", () => {
  it("a WebSocket upgrade sent to the SSE route is refused with 400 and leaves no subscription (it was 200 and a leak)", async () => {
    const w = await start();
    const sessionId = await newSession(w);
    for (let i = 0; i < 20; i++) {
      const response = await rawRequest(w.url, { path: `/api/v1/events?session=${sessionId}`, headers: { ...websocketHandshake(), ...auth } });
      expect(response.status).toBe(400);
    }
    // Upgrade without Connection: upgrade reaches the route as a plain request: a JSON 400.
    const plain = await rawRequest(w.url, { path: `/api/v1/events?session=${sessionId}`, headers: { Upgrade: "websocket", ...auth } });
    expect(plain.status).toBe(400);
    expect(plain.json).toEqual({ error: "bad_request", message: expect.stringContaining("connect WebSockets to /api/v1/ws") });
    // Upgrades of any other route are refused without running it.
    expect((await rawRequest(w.url, { path: "/api/v1/sessions", headers: { ...websocketHandshake(), ...auth } })).status).toBe(400);
    // A malformed handshake to the WebSocket route is refused too.
    expect((await rawRequest(w.url, { path: `/api/v1/ws?session=${sessionId}`, headers: { ...websocketHandshake(), "Sec-WebSocket-Key": "short", ...auth } })).status).toBe(400);
    expect(await live(w, "sse")).toBe(0);
    expect(await live(w, "ws")).toBe(0);
    // The WebSocket route still upgrades.
    expect((await rawRequest(w.url, { path: `/api/v1/ws?session=${sessionId}`, headers: { ...websocketHandshake(), ...auth } })).status).toBe(101);
  });

  it("SSE clients that disconnect mid-stream end their subscriptions", async () => {
    const w = await start();
    const sessionId = await newSession(w);
    const clients: SseClient[] = [];
    for (let i = 0; i < 5; i++) clients.push(await openSse(`${w.url}/api/v1/events?session=${sessionId}`, auth));
    opened.push(...clients);
    await eventually(async () => (await live(w, "sse")) === 5, 10_000, "5 live SSE subscriptions");
    for (const client of clients) client.close();
    await eventually(async () => (await live(w, "sse")) === 0, 10_000, "the SSE subscriptions to end");
  });

  it("a client gone while its sessions were looked up leaves no subscription behind", async () => {
    const { store, around } = faultyStore();
    const w = await start({ store });
    const sessionId = await newSession(w);
    let entered!: () => void;
    const inLookup = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    around.set("getSession", async (original, args) => {
      entered();
      await gate;
      return original(...args);
    });
    let replaying!: () => void;
    const subscribed = new Promise<void>((resolve) => (replaying = resolve));
    around.set("readFeed", (original, args) => {
      replaying();
      return original(...args);
    });
    const raw = await rawSocket(w.url);
    raw.socket.write(`GET /api/v1/events?session=${sessionId}&after=0 HTTP/1.1\r\nHost: test\r\nAuthorization: ${auth.Authorization}\r\n\r\n`);
    await inLookup;
    raw.socket.destroy();
    await raw.closed;
    around.delete("getSession");
    // A later request's answer: the server has read the first connection's end by then.
    expect((await w.call("GET", "/healthz", { as: null })).status).toBe(200);
    release();
    // The feed replay starts inside subscribe(); the route's check runs right after it.
    await subscribed;
    expect(await live(w, "sse")).toBe(0);
  });
});

describe("WebSocket frames from clients", () => {
  it("a frame over the limit closes the socket with 1009 and ends its subscription; small ones are ignored", async () => {
    const w = await start();
    const sessionId = await newSession(w);
    const socket = await openSocket(w, sessionId);
    await eventually(async () => (await live(w, "ws")) === 1, 10_000, "the WebSocket subscription");
    socket.send("x".repeat(100));
    await new Promise<void>((resolve, reject) => socket.ping(undefined, undefined, (error) => (error ? reject(error) : resolve())));
    await new Promise<void>((resolve) => socket.once("pong", () => resolve()));
    expect(socket.readyState).toBe(WebSocket.OPEN);
    const closed = closeCode(socket);
    socket.send(Buffer.alloc(MAX_CLIENT_FRAME_BYTES + 1));
    expect(await closed).toBe(1009);
    await eventually(async () => (await live(w, "ws")) === 0, 10_000, "the subscription to end");
  });

  it("a frame announcing 100 MiB is refused from its header, before any payload is sent (nothing is buffered)", async () => {
    const w = await start();
    const socket = await openSocket(w, await newSession(w));
    const closed = closeCode(socket);
    // A masked binary frame header with a 64-bit length, and no payload after it.
    const header = Buffer.alloc(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(100n * 1024n * 1024n, 2);
    ((socket as unknown as { _socket: net.Socket })._socket).write(header);
    expect(await closed).toBe(1009);
    await eventually(async () => (await live(w, "ws")) === 0, 10_000, "the subscription to end");
    expect((await w.call("GET", "/healthz", { as: null })).status).toBe(200);
  });
});
