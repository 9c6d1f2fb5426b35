import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiDeps, ApiEnv } from "../access.ts";
import { describeIssues } from "../errors.ts";
import { settled, stableAddress, SYNC_WAIT, waitView, writeIn } from "./shared.ts";

/**
 * `simple-chat`: the Flask assistant of flask-chat-assistant.md, at its paths under /api.
 * Each user has one conversation (a web session of their own, shared by the three routes):
 * `POST /chat {message}` → `{success: true, reply}` once the answer is there (a question the
 * workflow asks is the reply, and the next message answers it), or `{success: false, error}`
 * when the task fails or takes longer than the wait (120 s: it goes on, and its answer shows
 * in the history); `GET /history` → `{success, messages: [{role, content, timestamp,
 * is_scheduled}]}`; `GET /health` → `{status: "ok", scheduler_running}`. Errors are
 * `{success: false, error}` with their HTTP status.
 */
export const SIMPLE_CHAT_PREFIX = "/api";
const servers = [{ url: SIMPLE_CHAT_PREFIX }];
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const Failure = z.object({ success: z.literal(false), error: z.string() });

export const simpleChatRoutes = {
  chat: createRoute({
    method: "post",
    path: "/chat",
    tags: ["compat: simple-chat"],
    servers,
    summary: "Send a message and wait for the reply",
    request: { body: { required: true, content: { "application/json": { schema: z.looseObject({ message: z.string().min(1) }) } } } },
    responses: { 200: json(z.union([z.object({ success: z.literal(true), reply: z.string() }), Failure]), "The reply, or `{success: false, error}` (failed, or no answer in time)."), 400: json(Failure, "No message.") },
  }),
  history: createRoute({
    method: "get",
    path: "/history",
    tags: ["compat: simple-chat"],
    servers,
    summary: "The conversation, oldest first",
    responses: { 200: json(z.object({ success: z.literal(true), messages: z.array(z.object({ role: z.string(), content: z.string(), timestamp: z.string(), is_scheduled: z.boolean() })) }), "History.") },
  }),
  health: createRoute({
    method: "get",
    path: "/health",
    tags: ["compat: simple-chat"],
    servers,
    summary: "Whether the bot is up and its scheduler runs",
    responses: { 200: json(z.object({ status: z.literal("ok"), scheduler_running: z.boolean() }), "Up."), 503: json(z.object({ status: z.literal("error"), scheduler_running: z.boolean(), error: z.string() }), "The store can't be used.") },
  }),
};

/** Messages of the history a client gets (the Flask file kept everything; this is the last of them). */
const HISTORY_LIMIT = 500;

export function simpleChatApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: (result, c) => (result.success ? undefined : c.json({ success: false as const, error: describeIssues(result.error.issues) }, 400)) });
  const { host } = deps;

  app.openapi(simpleChatRoutes.chat, async (c) => {
    const address = stableAddress(deps, c.get("user"), "chat", "");
    const task = await writeIn(deps, address, c.req.valid("json").message, { answers: true });
    const done = await settled(host, task, SYNC_WAIT.ms);
    if (!done) return c.json({ success: false as const, error: `No answer within ${Math.round(SYNC_WAIT.ms / 1000)} s; it is still being worked on and will appear in the history.` }, 200);
    if (done.status === "completed") return c.json({ success: true as const, reply: done.result?.text ?? "" }, 200);
    const wait = waitView(done);
    if (wait) {
      const choices = wait.choices ? `\n${wait.choices.map((choice, i) => `${i + 1}. ${choice}`).join("\n")}` : wait.draft !== undefined ? `\n\n${wait.draft}\n\n(approve / reject)` : "";
      return c.json({ success: true as const, reply: `${wait.question}${choices}` }, 200);
    }
    return c.json({ success: false as const, error: done.status === "cancelled" ? "cancelled" : (done.error ?? "failed") }, 200);
  });

  app.openapi(simpleChatRoutes.history, async (c) => {
    const session = await host.sessions.find(stableAddress(deps, c.get("user"), "chat", ""));
    const messages = session ? await host.sessions.messages(session.id, HISTORY_LIMIT) : [];
    return c.json(
      {
        success: true as const,
        messages: messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: m.text, timestamp: new Date(m.at).toISOString(), is_scheduled: m.source === "scheduled" })),
      },
      200,
    );
  });

  app.openapi(simpleChatRoutes.health, async (c) => {
    const health = await host.health();
    const scheduler_running = health.scheduler.enabled && health.scheduler.running;
    if (!health.store.ok) return c.json({ status: "error" as const, scheduler_running, error: health.store.error ?? "the store can't be used" }, 503);
    return c.json({ status: "ok" as const, scheduler_running }, 200);
  });

  return app;
}
