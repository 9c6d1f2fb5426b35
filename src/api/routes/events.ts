import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { UpgradeWebSocket } from "hono/ws";
import type { FeedEvent, FeedFilter } from "../../events/index.ts";
import { maySeeSession, visibleSession, type ApiDeps, type ApiEnv } from "../access.ts";
import type { ApiUser } from "../auth.ts";
import { ApiError } from "../errors.ts";

/** Events queued for one slow client before it is dropped (it reconnects with the last id it got, and misses nothing). */
const MAX_QUEUED = 1000;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

/** An event as clients get it, over SSE (`data:`) and the WebSocket alike. */
export function wireEvent(event: FeedEvent) {
  return { seq: event.seq, type: event.type, sessionId: event.sessionId, ...(event.taskId ? { taskId: event.taskId } : {}), at: new Date(event.at).toISOString(), data: event.data };
}

/** Which events a user may follow: one session, or (without `session`) all of theirs now (reviewers with `all=true`: everyone's). */
async function filterFor(deps: ApiDeps, user: ApiUser, session: string | undefined, all = false): Promise<FeedFilter> {
  if (session) return { sessionId: (await visibleSession(deps, user, session)).id };
  if (all && user.reviewer) return {};
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.bot.listSessions({ platform: deps.platform, user: user.id }, { limit: 200, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.filter((s) => maySeeSession(deps, user, s)).map((s) => s.id));
    cursor = page.nextCursor;
  } while (cursor);
  return { sessionIds: ids };
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
 * what it missed from the store, then live events: nothing lost, nothing twice.
 */
export function eventRoutes(deps: ApiDeps, upgradeWebSocket?: UpgradeWebSocket): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { events } = deps.bot;

  app.get("/events", async (c) => {
    const user = c.get("user");
    const filter = await filterFor(deps, user, c.req.query("session"), c.req.query("all") === "true");
    const after = parseSeq(c.req.header("last-event-id"), "Last-Event-ID") ?? parseSeq(c.req.query("after"), "after");
    return streamSSE(c, async (stream) => {
      let queued = 0;
      let chain = Promise.resolve();
      const closed = new Promise<void>((resolve) => stream.onAbort(resolve));
      let drop: () => void = () => undefined;
      const dropped = new Promise<void>((resolve) => (drop = resolve));
      const unsubscribe = events.subscribe(
        filter,
        (event) => {
          if (++queued > MAX_QUEUED) return drop();
          chain = chain.then(async () => {
            await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(wireEvent(event)) });
            queued--;
          });
        },
        after === undefined ? {} : { after, onError: () => drop() },
      );
      await stream.write(": connected\n\n");
      // Where the replay ends and live events begin, for clients that render a history first.
      void unsubscribe.ready.then(() => (chain = chain.then(() => stream.write(": live\n\n").then(() => undefined))));
      const heartbeat = setInterval(() => void stream.write(": keep-alive\n\n").catch(() => undefined), HEARTBEAT_MS);
      await Promise.race([closed, dropped]);
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  if (upgradeWebSocket) {
    app.get(
      "/ws",
      // Awaited before the upgrade: a bad request gets its HTTP status (401, 400, 404), not a socket.
      upgradeWebSocket(async (c) => {
        const filter = await filterFor(deps, c.get("user"), c.req.query("session"), c.req.query("all") === "true");
        const since = parseSeq(c.req.query("since"), "since");
        let unsubscribe: (() => void) | undefined;
        return {
          onOpen(_event, ws) {
            const socket = ws.raw as { bufferedAmount?: number } | undefined;
            unsubscribe = events.subscribe(
              filter,
              (event) => {
                if ((socket?.bufferedAmount ?? 0) > 8 * 1024 * 1024) return ws.close(1013, "too slow; reconnect with since");
                ws.send(JSON.stringify(wireEvent(event)));
              },
              since === undefined ? {} : { after: since, onError: () => ws.close(1011, "the store could not be read") },
            );
          },
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
  const session = { name: "session", in: "query" as const, required: false, schema: { type: "string" as const }, description: "One session's events; without it, those of all your sessions (reviewers: all)." };
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/events",
    tags: ["events"],
    summary: "Server-Sent Events: start, message, progress, question, review, answered, reply, result, error, end, cancelled",
    description: "Each event has `id: <seq>` and `event: <type>`; its data is `{seq, type, sessionId, taskId?, at, data}`. Reconnect with Last-Event-ID (or ?after=<seq>) to get what was missed, nothing twice; ?after=0 replays from the start.",
    request: {},
    parameters: [session, { name: "after", in: "query", required: false, schema: { type: "integer" }, description: "Replay stored events after this seq first." }],
    responses: { 200: { description: "An event stream (text/event-stream)." } },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/ws",
    tags: ["events"],
    summary: "The same events over a WebSocket, one JSON object per message",
    request: {},
    parameters: [session, { name: "since", in: "query", required: false, schema: { type: "integer" }, description: "Replay stored events after this seq first." }],
    responses: { 101: { description: "Switching to the WebSocket protocol." } },
  });
}
