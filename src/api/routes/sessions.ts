import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { derivedId, newId } from "../../ids.ts";
import type { InboundEvent } from "../../model.ts";
import { addressIn, maySeeSession, visibleSession, type ApiDeps, type ApiEnv } from "../access.ts";
import { ApiError, forbidden } from "../errors.ts";
import type { Limits } from "../limits.ts";
import { errorResponses, IdParam, json, MessageSchema, pageOf, PagingQuery, SessionSchema } from "../schemas.ts";
import { messageView, sessionView } from "../views.ts";

const SessionPage = pageOf(SessionSchema, "SessionPage");
const Accepted = z
  .object({
    /** The task the message started, or the waiting task it answered; null when it did neither (a command's reply). */
    taskId: z.string().nullable(),
    outcome: z.enum(["started", "answered", "replied"]),
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
    responses: { 201: json(SessionSchema, "The new session."), ...errorResponses },
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
      body: { content: { "application/json": { schema: z.object({ topic: z.string().min(1).max(200).optional(), state: z.literal("closed").optional() }).strict() } } },
    },
    responses: { 200: json(SessionSchema, "The session as it is now."), ...errorResponses },
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
      headers: z.object({ "idempotency-key": z.string().min(1).max(100).optional() }),
      body: { content: { "application/json": { schema: z.object({ text: z.string().min(1) }) } } },
    },
    responses: { 202: json(Accepted, "Accepted: what it started or answered."), ...errorResponses },
  }),
};

/** Sessions over REST: create, list with paging, get, rename or close, history, and writing in one. */
export function sessionRoutes(deps: ApiDeps, limits: Limits): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  const { bot } = deps;

  app.openapi(routes.me, (c) => c.json(c.get("user"), 200));

  app.openapi(routes.create, async (c) => {
    const user = c.get("user");
    const body = c.req.valid("json") ?? {};
    const address = { platform: deps.platform, channel: `w-${newId(8)}`, user: user.id, direct: true };
    let session = await bot.openSession(address);
    if (body.topic) session = (await bot.store.updateSession(session.id, { topic: body.topic, updatedAt: Date.now() })) ?? session;
    return c.json(sessionView(session), 201);
  });

  app.openapi(routes.list, async (c) => {
    const user = c.get("user");
    const q = c.req.valid("query");
    if (q.all === "true" && !user.reviewer) throw forbidden("Only reviewers may list everyone's sessions.");
    const filter = q.all === "true" ? {} : { platform: deps.platform, user: user.id };
    // Closed sessions only when asked for: a deleted session is a closed one.
    const state = q.state ?? (["idle", "running", "waiting"] as const).slice();
    const page = await bot.listSessions({ ...filter, state }, { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : { offset: q.offset ?? 0 }) });
    return c.json({ items: page.items.map(sessionView), limit: q.limit, ...(q.cursor ? {} : { offset: q.offset ?? 0 }), nextCursor: page.nextCursor ?? null }, 200);
  });

  app.openapi(routes.get, async (c) => c.json(sessionView(await visibleSession(deps, c.get("user"), c.req.valid("param").id)), 200));

  app.openapi(routes.update, async (c) => {
    const session = await visibleSession(deps, c.get("user"), c.req.valid("param").id);
    const body = c.req.valid("json");
    const now = Date.now();
    const updated = await bot.store.updateSession(session.id, {
      ...(body.topic !== undefined ? { topic: body.topic } : {}),
      ...(body.state === "closed" ? { state: "closed" as const, closedAt: now } : {}),
      updatedAt: now,
    });
    return c.json(sessionView(updated ?? session), 200);
  });

  app.openapi(routes.remove, async (c) => {
    const session = await visibleSession(deps, c.get("user"), c.req.valid("param").id);
    if (session.state !== "closed") await bot.store.updateSession(session.id, { state: "closed", closedAt: Date.now(), updatedAt: Date.now() });
    return c.body(null, 204);
  });

  app.openapi(routes.messages, async (c) => {
    const session = await visibleSession(deps, c.get("user"), c.req.valid("param").id);
    const { limit, before } = c.req.valid("query");
    let items = await bot.store.listMessages(session.id, before ? Number.MAX_SAFE_INTEGER : limit);
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
    const limit = bot.config.history.maxMessageLength;
    if (text.length > limit) throw new ApiError(400, "bad_request", `text: ${text.length.toLocaleString("en-US")} characters; the limit is ${limit.toLocaleString("en-US")} (history.maxMessageLength).`);
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const id = idempotencyKey ?? `api-${newId(8)}`;
    const address = addressIn(session, user);
    const command = /^\/([A-Za-z0-9_-]+)(?:@\S+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
    const key = `${address.platform}:${id}`;
    // A message to a session whose task waits is an answer, not a new task.
    const activeId = bot.runner.activeTaskId(session.id);
    const answering = activeId !== undefined && (await bot.store.getTask(activeId))?.status === "waiting";
    // A task started counts against the limit once: a retry with the same Idempotency-Key finds it.
    const earlierTaskId = idempotencyKey !== undefined ? derivedId("t-", key) : undefined;
    const retried = earlierTaskId !== undefined && (await bot.store.getTask(earlierTaskId)) !== undefined;
    if (!command && !answering && !retried) await limits.taskStarted(user.id);
    const event: InboundEvent = command ? { kind: "command", id, address, name: command[1]!.toLowerCase(), args: command[2]?.trim() ?? "" } : { kind: "message", id, address, text };
    const outcome = await bot.handle(event);
    if (outcome.kind === "task") return c.json({ taskId: outcome.taskId, outcome: "started" as const }, 202);
    if (outcome.kind === "duplicate" && retried) return c.json({ taskId: earlierTaskId, outcome: "started" as const }, 202);
    if (answering || outcome.kind === "duplicate") {
      const answered = (await bot.store.listTasks({ sessionId: session.id }, { limit: 5 })).items.find((task) => task.lastAnswerEvent === key);
      if (answered) return c.json({ taskId: answered.id, outcome: "answered" as const }, 202);
    }
    return c.json({ taskId: null, outcome: "replied" as const }, 202);
  });

  return app;
}
