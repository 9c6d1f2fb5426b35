import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { RateLimitError } from "../../errors.ts";
import { derivedId, newId } from "../../port/index.ts";
import type { InboundEvent } from "../../model.ts";
import { addressIn, maySeeSession, visibleSession, type ApiDeps, type ApiEnv } from "../access.ts";
import { ApiError, forbidden } from "../errors.ts";
import { bodyErrorResponses, errorResponses, ErrorSchema, IdempotencyKeyHeader, IdParam, json, MessageSchema, pageOf, PagingQuery, SessionSchema } from "../schemas.ts";
import { messageView, sessionView } from "../views.ts";

const SessionPage = pageOf(SessionSchema, "SessionPage");
/** The route an Idempotency-Key of a message is scoped to. */
const SEND_ROUTE = "POST /api/v1/sessions/{id}/messages";
const Accepted = z
  .object({
    /** The task the message started, or the waiting task it answered; null when it did neither (a command's reply). */
    taskId: z.string().nullable(),
    outcome: z.enum(["started", "answered", "replied"]),
    /** What the bot answered (a command's reply, a hint), as it also appears in the session; null when it answered nothing. */
    reply: z.string().nullable(),
  })
  .openapi("MessageAccepted");

const routes = {
  me: createRoute({
    method: "get",
    path: "/me",
    tags: ["sessions"],
    summary: "Who the credential belongs to",
    responses: { 200: json(z.object({ id: z.string(), reviewer: z.boolean() }).openapi("Me"), "The signed-in user."), ...errorResponses },
  }),
  create: createRoute({
    method: "post",
    path: "/sessions",
    tags: ["sessions"],
    summary: "Start a new conversation",
    request: { body: { required: false, content: { "application/json": { schema: z.object({ topic: z.string().min(1).max(200).optional() }) } } } },
    responses: { 201: json(SessionSchema, "The new session."), ...bodyErrorResponses },
  }),
  list: createRoute({
    method: "get",
    path: "/sessions",
    tags: ["sessions"],
    summary: "Your sessions, most recently active first",
    request: { query: PagingQuery.extend({ state: z.enum(["idle", "running", "waiting", "closed"]).optional() }) },
    responses: { 200: json(SessionPage, "A page of sessions."), ...errorResponses },
  }),
  get: createRoute({
    method: "get",
    path: "/sessions/{id}",
    tags: ["sessions"],
    request: { params: IdParam },
    responses: { 200: json(SessionSchema, "The session."), ...errorResponses },
  }),
  update: createRoute({
    method: "patch",
    path: "/sessions/{id}",
    tags: ["sessions"],
    summary: "Rename a session, or close it",
    request: {
      params: IdParam,
      body: { required: true, content: { "application/json": { schema: z.object({ topic: z.string().min(1).max(200).optional(), state: z.literal("closed").optional() }).strict() } } },
    },
    responses: { 200: json(SessionSchema, "The session as it is now."), ...bodyErrorResponses },
  }),
  remove: createRoute({
    method: "delete",
    path: "/sessions/{id}",
    tags: ["sessions"],
    summary: "Close a session and hide it from the list (its history is kept for its tasks' retention)",
    request: { params: IdParam },
    responses: { 204: { description: "Closed." }, ...errorResponses },
  }),
  messages: createRoute({
    method: "get",
    path: "/sessions/{id}/messages",
    tags: ["sessions"],
    summary: "The session's history, oldest first: the last `limit` messages before `before` (a message id)",
    request: { params: IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), before: z.string().min(1).optional() }) },
    responses: { 200: json(z.object({ items: z.array(MessageSchema) }), "Messages, oldest first."), ...errorResponses },
  }),
  send: createRoute({
    method: "post",
    path: "/sessions/{id}/messages",
    tags: ["sessions"],
    summary: "Write in a session, as in a chat: starts the routed workflow, answers a waiting question, or runs a /command",
    request: {
      params: IdParam,
      headers: z.object({ "idempotency-key": IdempotencyKeyHeader }),
      body: { required: true, content: { "application/json": { schema: z.object({ text: z.string().min(1) }) } } },
    },
    responses: {
      202: json(Accepted, "Accepted: what it started or answered; a retry with the same Idempotency-Key, session and text gets the same answer."),
      422: json(ErrorSchema, "`idempotency_key_reused`: the Idempotency-Key was used for a different request (another text or session)."),
      ...bodyErrorResponses,
    },
  }),
};

/** Sessions over REST: create, list with paging, get, rename or close, history, and writing in one. */
export function sessionRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  const { host } = deps;

  app.openapi(routes.me, (c) => c.json(c.get("user"), 200));

  app.openapi(routes.create, async (c) => {
    const user = c.get("user");
    const body = c.req.valid("json") ?? {};
    const address = { platform: deps.platform, channel: `w-${newId(8)}`, user: user.id, direct: true };
    let session = await host.sessions.open(address);
    if (body.topic) session = (await host.sessions.update(session.id, { topic: body.topic })) ?? session;
    return c.json(sessionView(session), 201);
  });

  app.openapi(routes.list, async (c) => {
    const user = c.get("user");
    const q = c.req.valid("query");
    if (q.all === "true" && !user.reviewer) throw forbidden("Only reviewers may list everyone's sessions.");
    const filter = q.all === "true" ? {} : { platform: deps.platform, user: user.id };
    // Closed sessions only when asked for: a deleted session is a closed one.
    const state = q.state ?? (["idle", "running", "waiting"] as const).slice();
    const page = await host.sessions.list({ ...filter, state }, { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : { offset: q.offset ?? 0 }) });
    return c.json({ items: page.items.map(sessionView), limit: q.limit, ...(q.cursor ? {} : { offset: q.offset ?? 0 }), nextCursor: page.nextCursor ?? null }, 200);
  });

  app.openapi(routes.get, async (c) => c.json(sessionView(await visibleSession(deps, c.get("user"), c.req.valid("param").id)), 200));

  app.openapi(routes.update, async (c) => {
    const session = await visibleSession(deps, c.get("user"), c.req.valid("param").id);
    const body = c.req.valid("json");
    const updated = await host.sessions.update(session.id, { ...(body.topic !== undefined ? { topic: body.topic } : {}), ...(body.state === "closed" ? { closed: true } : {}) });
    return c.json(sessionView(updated ?? session), 200);
  });

  app.openapi(routes.remove, async (c) => {
    const session = await visibleSession(deps, c.get("user"), c.req.valid("param").id);
    if (session.state !== "closed") await host.sessions.update(session.id, { closed: true });
    return c.body(null, 204);
  });

  app.openapi(routes.messages, async (c) => {
    const session = await visibleSession(deps, c.get("user"), c.req.valid("param").id);
    const { limit, before } = c.req.valid("query");
    let items = await host.sessions.messages(session.id, before ? Number.MAX_SAFE_INTEGER : limit);
    if (before) {
      const at = items.findIndex((m) => m.id === before);
      if (at < 0) throw new ApiError(400, "bad_request", `before: there is no message ${before} in this session.`);
      items = items.slice(Math.max(0, at - limit), at);
    }
    return c.json({ items: items.map(messageView) }, 200);
  });

  app.openapi(routes.send, async (c) => {
    const user = c.get("user");
    const session = await visibleSession(deps, user, c.req.valid("param").id);
    if (!maySeeSession(deps, user, session) || session.state === "closed") throw new ApiError(409, "closed", "This session is closed; start a new one with POST /sessions.");
    const { text } = c.req.valid("json");
    const limit = host.settings.maxMessageLength;
    if (text.length > limit) throw new ApiError(400, "bad_request", `text: ${text.length.toLocaleString("en-US")} characters; the limit is ${limit.toLocaleString("en-US")} (history.maxMessageLength).`);
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const address = addressIn(session, user);
    const command = /^\/([A-Za-z0-9_-]+)(?:@\S+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
    /** A retry's answer: the replies the first request got, from the session's history (the engine derives their ids from the event). */
    const repliesInHistory = async (sessionId: string, key: string): Promise<string[]> => {
      const ids = new Map(Array.from({ length: 10 }, (_, i) => [derivedId("r-", `${key}#${i + 1}`), i]));
      const found = (await host.sessions.messages(sessionId, 100)).filter((m) => ids.has(m.id));
      return found.sort((a, b) => ids.get(a.id)! - ids.get(b.id)!).map((m) => m.text);
    };
    const write = async (id: string, retried: boolean) => {
      const key = `${address.platform}:${id}`;
      // A message to a session whose task waits is an answer, not a new task.
      const answering = (await host.tasks.active(session.id))?.status === "waiting";
      // The engine derives a task's id from the event key: a retry finds the task it started.
      const earlierTaskId = derivedId("t-", key);
      const started = retried && (await host.tasks.get(earlierTaskId)) !== undefined;
      const event: InboundEvent = command ? { kind: "command", id, address, name: command[1]!.toLowerCase(), args: command[2]?.trim() ?? "" } : { kind: "message", id, address, text };
      const outcome = await host.handle(event);
      // The engine answered the person in the session too; the API answers with a status.
      if (outcome.kind === "limited") throw new RateLimitError(outcome.message, outcome.retryAfterMs);
      if (outcome.kind === "failed") throw outcome.error;
      if (outcome.kind === "task") return c.json({ taskId: outcome.taskId, outcome: "started" as const, reply: null }, 202);
      if (outcome.kind === "duplicate" && started) return c.json({ taskId: earlierTaskId, outcome: "started" as const, reply: null }, 202);
      if (answering || outcome.kind === "duplicate") {
        const answered = (await host.tasks.list({ sessionId: session.id }, { limit: 5 })).items.find((task) => task.lastAnswerEvent === key);
        if (answered) return c.json({ taskId: answered.id, outcome: "answered" as const, reply: null }, 202);
      }
      const replies = outcome.kind === "handled" ? (outcome.replies ?? []) : await repliesInHistory(session.id, key);
      return c.json({ taskId: null, outcome: "replied" as const, reply: replies.length > 0 ? replies.join("\n\n") : null }, 202);
    };
    if (idempotencyKey === undefined) return write(`api-${newId(8)}`, false);
    // The event id covers user, route, key, session and text: the engine's de-duplication can
    // only ever give back this request's own result. Another text or session under the same
    // key (of this user, on this route) is refused with 422.
    const request = { sessionId: session.id, text };
    return deps.idempotency.run({ user: user.id, route: SEND_ROUTE, key: idempotencyKey, request }, ({ exact }, retry) => write(`idem-${exact}`, retry));
  });

  return app;
}
