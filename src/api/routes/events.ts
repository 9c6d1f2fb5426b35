import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { UpgradeWebSocket } from "hono/ws";
import type { FeedEvent, FeedFilter, Unsubscribe } from "../../port/index.ts";
import { maySeeSession, visibleSession, type ApiDeps, type ApiEnv } from "../access.ts";
import type { ApiUser } from "../auth.ts";
import { ApiError } from "../errors.ts";
import type { EventStreams } from "../event-streams.ts";
import { headerOf } from "../node-request.ts";

/**
 * Largest frame a WebSocket client may send, in bytes. The server reads nothing from clients
 * (the socket carries events out only), so the ws default of 100 MiB would only be memory an
 * attacker can make the server hold; a bigger frame closes the socket with 1009 as soon as
 * its header announces the size, before its payload is buffered.
 */
export const MAX_CLIENT_FRAME_BYTES = 4096;

/** Events queued for one slow client before it is dropped (it reconnects with the last id it got, and misses nothing). */
const MAX_QUEUED = 1000;
/** The same on Node, in bytes waiting in the socket's buffer. */
const MAX_BUFFERED = 8 * 1024 * 1024;
const SSE_HEADERS = { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" };

/** Where one client's stream goes: `write` answers false when the client is too slow (it is then closed). */
interface Sink {
  write(chunk: string): boolean;
  close(): void;
}

/**
 * An event's JSON and SSE text, each made once: the feed hands every subscriber the same
 * (frozen) event object, so a thousand clients of one session share one string.
 */
const asJson = new WeakMap<FeedEvent, string>();
const asSse = new WeakMap<FeedEvent, string>();
function wireJson(event: FeedEvent): string {
  let json = asJson.get(event);
  if (json === undefined) asJson.set(event, (json = JSON.stringify(wireEvent(event))));
  return json;
}
function sseChunk(event: FeedEvent): string {
  let chunk = asSse.get(event);
  if (chunk === undefined) asSse.set(event, (chunk = `id: ${event.seq}\nevent: ${event.type}\ndata: ${wireJson(event)}\n\n`));
  return chunk;
}
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

/** An event as clients get it, over SSE (`data:`) and the WebSocket alike. */
export function wireEvent(event: FeedEvent) {
  return { seq: event.seq, type: event.type, sessionId: event.sessionId, ...(event.taskId ? { taskId: event.taskId } : {}), at: new Date(event.at).toISOString(), data: event.data };
}

/** Which events a user may follow: one session, or (without `session`) all of theirs (reviewers with `all=true`: everyone's). */
async function filterFor(deps: ApiDeps, user: ApiUser, session: string | undefined, all = false): Promise<FeedFilter> {
  if (session) return { sessionId: (await visibleSession(deps, user, session)).id };
  if (all && user.reviewer) return {};
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.host.sessions.list({ platform: deps.platform, user: user.id }, { limit: 200, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.filter((s) => maySeeSession(deps, user, s)).map((s) => s.id));
    cursor = page.nextCursor;
  } while (cursor);
  return { sessionIds: ids };
}

/**
 * A subscription to "all of mine" (no `session`) also follows the user's sessions opened after
 * it began (a dashboard that connects first, then starts tasks); returns what stops that.
 */
function followNewSessions(deps: ApiDeps, user: ApiUser, filter: FeedFilter, subscription: Unsubscribe): () => void {
  if (filter.sessionIds === undefined) return () => undefined;
  return deps.host.sessions.onOpened((session) => {
    if (maySeeSession(deps, user, session)) subscription.follow(session.id);
  });
}

function parseSeq(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw new ApiError(400, "bad_request", `${name}: expected the seq (a whole number) of the last event received.`);
  return Number(value.trim());
}

/**
 * Live events: Server-Sent Events at `GET /events` and a WebSocket at `/ws`, the same typed
 * events (start, message, progress, question, review, result, error, end, cancelled, reply).
 * A client that reconnects with `Last-Event-ID` (SSE; or `?after=`) or `?since=` (WS) first gets
 * what it missed from the store, then live events: nothing lost, nothing twice. Every
 * subscription is counted in `streams` and ends when its response or socket does.
 */
export function eventRoutes(deps: ApiDeps, streams: EventStreams, upgradeWebSocket?: UpgradeWebSocket): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { events } = deps.host;

  app.get("/events", async (c) => {
    // An upgrade gets no stream: its response is thrown away (on Node the upgrade is answered
    // by the WebSocket server), and a subscription behind it would never end.
    if (headerOf(c, "upgrade") !== undefined) throw new ApiError(400, "bad_request", "GET /api/v1/events is a Server-Sent Events stream, not a WebSocket: connect WebSockets to /api/v1/ws.");
    const user = c.get("user");
    const filter = await filterFor(deps, user, c.req.query("session"), c.req.query("all") === "true");
    const after = parseSeq(c.req.header("last-event-id"), "Last-Event-ID") ?? parseSeq(c.req.query("after"), "after");
    const follow = (sink: Sink): (() => void) => {
      sink.write(": connected\n\n");
      const deliver = (event: FeedEvent): void => {
        if (!sink.write(sseChunk(event))) sink.close();
      };
      const unsubscribe = events.subscribe(filter, deliver, after === undefined ? {} : { after, onError: () => sink.close() });
      const stopFollowing = followNewSessions(deps, user, filter, unsubscribe);
      // Where the replay ends and live events begin, for clients that render a history first.
      void unsubscribe.ready.then(() => sink.write(": live\n\n"));
      const heartbeat = setInterval(() => sink.write(": keep-alive\n\n"), HEARTBEAT_MS);
      return () => {
        clearInterval(heartbeat);
        stopFollowing();
        unsubscribe();
      };
    };
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) {
      // On Node, straight to the socket: one formatted chunk shared by every client, and no
      // web-stream layers between the feed and the socket (the fan-out to 1,000 clients of one
      // session spent most of its time there).
      outgoing.writeHead(200, { ...Object.fromEntries(c.res.headers), ...SSE_HEADERS });
      const stop = streams.track(
        "sse",
        follow({
          write: (chunk) => outgoing.write(chunk) || outgoing.writableLength < MAX_BUFFERED,
          close: () => outgoing.destroy(),
        }),
      );
      outgoing.once("close", stop);
      // The client may have gone while its sessions were looked up: 'close' was then emitted
      // before anyone listened.
      if (outgoing.destroyed) stop();
      return RESPONSE_ALREADY_SENT;
    }
    // Elsewhere (the API mounted in another server): Hono's SSE stream.
    return streamSSE(c, async (stream) => {
      let queued = 0;
      let chain = Promise.resolve();
      let ended: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (ended = resolve));
      stream.onAbort(() => ended());
      const stop = streams.track(
        "sse",
        follow({
          write: (chunk) => {
            chain = chain.then(() => stream.write(chunk).then(() => void queued--, ended));
            return ++queued <= MAX_QUEUED;
          },
          close: () => ended(),
        }),
      );
      await done;
      stop();
    });
  });

  if (upgradeWebSocket) {
    app.get(
      "/ws",
      // Awaited before the upgrade: a bad request gets its HTTP status (401, 400, 404), not a socket.
      upgradeWebSocket(async (c) => {
        const user = c.get("user");
        const filter = await filterFor(deps, user, c.req.query("session"), c.req.query("all") === "true");
        const since = parseSeq(c.req.query("since"), "since");
        let unsubscribe: (() => void) | undefined;
        return {
          onOpen(_event, ws) {
            const socket = ws.raw as { bufferedAmount?: number } | undefined;
            const subscription = events.subscribe(
              filter,
              (event) => {
                if ((socket?.bufferedAmount ?? 0) > MAX_BUFFERED) return ws.close(1013, "too slow; reconnect with since");
                ws.send(wireJson(event));
              },
              since === undefined ? {} : { after: since, onError: () => ws.close(1011, "the store could not be read") },
            );
            const stopFollowing = followNewSessions(deps, user, filter, subscription);
            const tracked = streams.track("ws", subscription);
            unsubscribe = () => {
              stopFollowing();
              tracked();
            };
          },
          // Clients' messages are not read (the socket only carries events out); the server
          // closes one that sends a frame over its small limit (adapters/web/server.ts).
          onClose() {
            unsubscribe?.();
          },
        };
      }),
    );
  }
  return app;
}

/** The two event routes in the OpenAPI document (they are plain Hono routes: a stream and an upgrade). */
export function describeEventRoutes(app: OpenAPIHono<ApiEnv>): void {
  const session = { name: "session", in: "query" as const, required: false, schema: { type: "string" as const }, description: "One session's events; without it, those of all your sessions, including sessions opened after you connected (a task started without sessionId opens one); reviewers with all=true: everyone's." };
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/events",
    tags: ["events"],
    summary: "Server-Sent Events: start, message, progress, question, review, answered, reply, result, error, end, cancelled",
    description: "Each event has `id: <seq>` and `event: <type>`; its data is `{seq, type, sessionId, taskId?, at, data}`. Reconnect with Last-Event-ID (or ?after=<seq>) to get what was missed, nothing twice; ?after=0 replays from the start.",
    request: {},
    parameters: [session, { name: "after", in: "query", required: false, schema: { type: "integer" }, description: "Replay stored events after this seq first." }],
    responses: { 200: { description: "An event stream (text/event-stream)." }, 400: { description: "A bad Last-Event-ID or after, or a WebSocket upgrade (use /ws)." } },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/ws",
    tags: ["events"],
    summary: "The same events over a WebSocket, one JSON object per message",
    request: {},
    parameters: [session, { name: "since", in: "query", required: false, schema: { type: "integer" }, description: "Replay stored events after this seq first." }],
    description: `The server only sends; a client frame over ${MAX_CLIENT_FRAME_BYTES.toLocaleString("en-US")} bytes closes the socket (1009, message too big).`,
    responses: { 101: { description: "Switching to the WebSocket protocol." }, 400: { description: "Not a valid WebSocket upgrade, or a bad since." } },
  });
}
