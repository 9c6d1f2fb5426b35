import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Address, Message, Session } from "../../model.ts";
import { newId } from "../../port/index.ts";
import { visibleSession, type ApiDeps, type ApiEnv } from "../access.ts";
import type { ApiUser } from "../auth.ts";
import { ApiError, describeIssues, notFound } from "../errors.ts";

/**
 * `chat-session`: the session and message routes of chat-module-design.md (Bisheng's chat
 * module), at its paths under /chat. A chat is a web session; its `chat_id` is the one the
 * client gave (`[A-Za-z0-9._~-]`, up to 128) or, for sessions made elsewhere (the page, the
 * v1 API), the session's id: either names it on every route. Answers are Bisheng's envelope
 * `{status_code, status_message, data}`, errors too (`data: null`, the HTTP status the same).
 * The WebSocket `/chat/{flow_id}?chat_id=` is in chat-socket.ts.
 */
export const CHAT_PREFIX = "/chat";
const CHAT_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const servers = [{ url: CHAT_PREFIX }];
const ok = <T>(data: T) => ({ status_code: 200, status_message: "SUCCESS", data });
const json = (description: string) => ({ description, content: { "application/json": { schema: z.object({ status_code: z.number(), status_message: z.string(), data: z.unknown() }) } } });
const IdParam = z.object({ id: z.string().min(1).max(200).openapi({ param: { name: "id", in: "path" }, description: "The chat_id or the session id." }) });
const tags = ["compat: chat-session"];
const SessionChange = z.looseObject({ topic: z.string().min(1).max(200).optional(), chat_id: z.string().regex(CHAT_ID).optional(), flow_id: z.string().optional(), chat_type: z.string().optional() });

export const chatSessionRoutes = {
  create: createRoute({ method: "post", path: "/session/create", tags, servers, summary: "Create a chat session (or return the open one of this chat_id)", request: { body: { required: false, content: { "application/json": { schema: SessionChange } } } }, responses: { 200: json("The session.") } }),
  list: createRoute({
    method: "get",
    path: "/session/list",
    tags,
    servers,
    summary: "Your open sessions, most recently active first: `{list, total, page, limit}`",
    request: { query: z.object({ page: z.coerce.number().int().min(1).default(1), limit: z.coerce.number().int().min(1).max(200).default(20) }) },
    responses: { 200: json("A page of sessions.") },
  }),
  get: createRoute({ method: "get", path: "/session/{id}", tags, servers, request: { params: IdParam }, responses: { 200: json("The session."), 404: json("No such session (or not yours).") } }),
  update: createRoute({ method: "put", path: "/session/{id}", tags, servers, summary: "Rename (`topic`)", request: { params: IdParam, body: { required: true, content: { "application/json": { schema: SessionChange } } } }, responses: { 200: json("The session."), 404: json("No such session.") } }),
  remove: createRoute({ method: "delete", path: "/session/{id}", tags, servers, summary: "Close the session (the chat_id then starts a new one)", request: { params: IdParam }, responses: { 200: json("Closed."), 404: json("No such session.") } }),
  history: createRoute({
    method: "get",
    path: "/message/history",
    tags,
    servers,
    summary: "A chat's messages, oldest first: the last `page_size` before the message `id`",
    request: { query: z.object({ chat_id: z.string().min(1).max(200), flow_id: z.string().optional(), id: z.string().optional(), page_size: z.coerce.number().int().min(1).max(500).default(50) }) },
    responses: { 200: json("Messages."), 404: json("No such chat.") },
  }),
  interrupt: createRoute({
    method: "post",
    path: "/interrupt",
    tags,
    servers,
    summary: "Stop what the chat is working on: `data` is `{task_id, status}`, or null when nothing was",
    request: { body: { required: true, content: { "application/json": { schema: z.looseObject({ chat_id: z.string().min(1).max(200), flow_id: z.string().optional() }) } } } },
    responses: { 200: json("Interrupted (or nothing to interrupt)."), 404: json("No such chat.") },
  }),
};

/** The address of a chat_id the client chose: the user is part of it, so two users' chat_ids never meet. */
export function chatAddress(deps: ApiDeps, user: ApiUser, chatId: string): Address {
  return { platform: deps.platform, channel: `cs:${user.id}:${chatId}`, user: user.id, direct: true };
}

export function chatIdOf(session: Session): string {
  const prefix = `cs:${session.owner}:`;
  return session.channel.startsWith(prefix) ? session.channel.slice(prefix.length) : session.id;
}

/** The session a chat_id (or session id) names; with `create`, a new chat_id opens one. */
export async function resolveChat(deps: ApiDeps, user: ApiUser, chatId: string, create = false): Promise<Session> {
  const address = CHAT_ID.test(chatId) ? chatAddress(deps, user, chatId) : undefined;
  const found = address ? await deps.host.sessions.find(address) : undefined;
  if (found) return found;
  const byId = await visibleSession(deps, user, chatId).catch(() => undefined);
  if (byId) return byId;
  if (create && address) return deps.host.sessions.open(address);
  if (create) throw new ApiError(400, "bad_request", "chat_id: letters, digits, '.', '_', '~' or '-', at most 128.");
  throw notFound(`chat ${chatId}`);
}

const iso = (ms: number) => new Date(ms).toISOString();

export function sessionOut(session: Session) {
  return { id: session.id, user_id: session.owner, chat_id: chatIdOf(session), flow_id: null, chat_type: "workflow", topic: session.topic ?? null, logo: null, state: session.state, create_time: iso(session.createdAt), update_time: iso(session.updatedAt) };
}

export function messageOut(message: Message, session: Session) {
  const extra = { ...(message.links?.length ? { links: message.links } : {}), ...(message.taskId ? { task_id: message.taskId } : {}), source: message.source };
  return { id: message.id, chat_id: chatIdOf(session), flow_id: null, chat_type: "workflow", user_id: message.role === "user" ? (message.user ?? session.owner) : null, is_bot: message.role !== "user", message: message.text, extra: JSON.stringify(extra), source: 0, create_time: iso(message.at) };
}

export function chatSessionApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: (result, c) => (result.success ? undefined : c.json({ status_code: 400, status_message: describeIssues(result.error.issues), data: null }, 400)) });
  const { host } = deps;

  app.openapi(chatSessionRoutes.create, async (c) => {
    const body = c.req.valid("json") ?? {};
    let session = await resolveChat(deps, c.get("user"), body.chat_id ?? newId(16), true);
    if (body.topic) session = (await host.sessions.update(session.id, { topic: body.topic })) ?? session;
    return c.json(ok(sessionOut(session)), 200);
  });

  app.openapi(chatSessionRoutes.list, async (c) => {
    const user = c.get("user");
    const { page, limit } = c.req.valid("query");
    const all: Session[] = [];
    let cursor: string | undefined;
    do {
      const part = await host.sessions.list({ platform: deps.platform, user: user.id, state: ["idle", "running", "waiting"] }, { limit: 200, ...(cursor ? { cursor } : {}) });
      all.push(...part.items);
      cursor = part.nextCursor ?? undefined;
    } while (cursor && all.length < 5000);
    return c.json(ok({ list: all.slice((page - 1) * limit, page * limit).map(sessionOut), total: all.length, page, limit }), 200);
  });

  app.openapi(chatSessionRoutes.get, async (c) => c.json(ok(sessionOut(await resolveChat(deps, c.get("user"), c.req.valid("param").id))), 200));

  app.openapi(chatSessionRoutes.update, async (c) => {
    const session = await resolveChat(deps, c.get("user"), c.req.valid("param").id);
    const { topic } = c.req.valid("json");
    const updated = topic ? await host.sessions.update(session.id, { topic }) : session;
    return c.json(ok(sessionOut(updated ?? session)), 200);
  });

  app.openapi(chatSessionRoutes.remove, async (c) => {
    const session = await resolveChat(deps, c.get("user"), c.req.valid("param").id);
    if (session.state !== "closed") await host.sessions.update(session.id, { closed: true });
    return c.json(ok(null), 200);
  });

  app.openapi(chatSessionRoutes.history, async (c) => {
    const q = c.req.valid("query");
    const session = await resolveChat(deps, c.get("user"), q.chat_id);
    let items = await host.sessions.messages(session.id, q.id ? Number.MAX_SAFE_INTEGER : q.page_size);
    if (q.id) {
      const at = items.findIndex((m) => m.id === q.id);
      if (at < 0) throw new ApiError(400, "bad_request", `id: there is no message ${q.id} in this chat.`);
      items = items.slice(Math.max(0, at - q.page_size), at);
    }
    return c.json(ok(items.map((m) => messageOut(m, session))), 200);
  });

  app.openapi(chatSessionRoutes.interrupt, async (c) => {
    const user = c.get("user");
    const session = await resolveChat(deps, user, c.req.valid("json").chat_id);
    const active = await host.tasks.active(session.id);
    if (!active) return c.json(ok(null), 200);
    const ended = await host.tasks.cancel(active.id, user.id);
    return c.json(ok({ task_id: active.id, status: ended?.status ?? active.status, cancel_requested: ended?.cancelRequested === true }), 200);
  });

  return app;
}
