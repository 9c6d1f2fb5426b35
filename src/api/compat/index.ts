import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import type { ApiDeps, ApiEnv } from "../access.ts";
import { CHAT_PREFIX, chatSessionApp, chatSessionRoutes } from "./chat-session.ts";
import { chatSocketApp, isChatSocketPath } from "./chat-socket.ts";
import { QA_ASYNC_PREFIX, qaAsyncApp, qaAsyncRoutes } from "./qa-async.ts";
import type { CompatContract } from "./shared.ts";
import { SIMPLE_CHAT_PREFIX, simpleChatApp, simpleChatRoutes } from "./simple-chat.ts";

export { COMPAT_CONTRACTS, SYNC_WAIT, type CompatContract } from "./shared.ts";
export { isChatSocketPath };

/**
 * The old contracts of the systems chatflow replaces, each at its original paths, mounted
 * when `adapters.web.compat` lists it (README, "Compatibility routes"). They sit behind the
 * API's authentication and limits (the API applies them to `/chat/*` too when `chat-session`
 * is on); routes of contracts not listed don't exist (404).
 */
export function mountCompat(app: OpenAPIHono<ApiEnv>, deps: ApiDeps, contracts: readonly CompatContract[], upgradeWebSocket?: UpgradeWebSocket): void {
  if (contracts.includes("qa-async")) app.route(QA_ASYNC_PREFIX, qaAsyncApp(deps));
  if (contracts.includes("simple-chat")) app.route(SIMPLE_CHAT_PREFIX, simpleChatApp(deps));
  if (contracts.includes("chat-session")) {
    app.route(CHAT_PREFIX, chatSessionApp(deps));
    if (upgradeWebSocket) app.route(CHAT_PREFIX, chatSocketApp(deps, upgradeWebSocket));
  }
}

/** Adds the listed contracts' routes to an OpenAPI document (each with its own `servers`, the contract's prefix). */
export function describeCompat(doc: OpenAPIHono<ApiEnv>, contracts: readonly CompatContract[]): void {
  const groups: Array<[CompatContract, Record<string, object>]> = [
    ["qa-async", qaAsyncRoutes],
    ["simple-chat", simpleChatRoutes],
    ["chat-session", chatSessionRoutes],
  ];
  for (const [name, routes] of groups) {
    if (!contracts.includes(name)) continue;
    for (const route of Object.values(routes)) doc.openAPIRegistry.registerPath(route as Parameters<typeof doc.openAPIRegistry.registerPath>[0]);
  }
  if (contracts.includes("chat-session")) {
    doc.openAPIRegistry.registerPath({
      method: "get",
      path: "/{flow_id}",
      servers: [{ url: CHAT_PREFIX }],
      tags: ["compat: chat-session"],
      summary: "WebSocket: frames {type, data, trace_id}; server sends start, message, progress, result, error, end, interrupt; client sends message, interrupt",
      request: {},
      parameters: [
        { name: "flow_id", in: "path", required: true, schema: { type: "string" }, description: "`default` (messages as in a chat) or a workflow's name." },
        { name: "chat_id", in: "query", required: false, schema: { type: "string" }, description: "The chat (a new one when absent or unknown)." },
      ],
      responses: { 101: { description: "Switching to the WebSocket protocol." }, 404: { description: "No such flow." } },
    });
  }
}

/**
 * The API's error, in the shape of the contract whose path it answers: `{code, msg, data:
 * null}` (qa-async), `{success: false, error}` (simple-chat), `{status_code, status_message,
 * data: null}` (chat-session); the status and headers (Retry-After, WWW-Authenticate) kept.
 * Errors of other paths are left as they are.
 */
export async function inCompatShape(c: Context, response: Response, contracts: readonly CompatContract[]): Promise<Response> {
  const shape = contractOf(c.req.path, contracts);
  if (!shape) return response;
  const body = (await response.clone().json()) as { message?: string };
  const message = body.message ?? "error";
  const status = response.status;
  const reshaped = shape === "qa-async" ? { code: status, msg: message, data: null } : shape === "simple-chat" ? { success: false, error: message } : { status_code: status, status_message: message, data: null };
  const headers = new Headers(response.headers);
  return new Response(JSON.stringify(reshaped), { status, headers });
}

/** Which contract a path (with any basePath in front) belongs to. */
function contractOf(path: string, contracts: readonly CompatContract[]): CompatContract | undefined {
  if (contracts.includes("qa-async") && /\/api\/v2\/chat\/qa(\/.*)?$/.test(path)) return "qa-async";
  if (contracts.includes("simple-chat") && /\/api\/(chat|history|health)$/.test(path)) return "simple-chat";
  if (contracts.includes("chat-session") && !path.includes("/api/") && /\/chat\/(session\/[^/]+|message\/history|[^/]+)$/.test(path)) return "chat-session";
  return undefined;
}
