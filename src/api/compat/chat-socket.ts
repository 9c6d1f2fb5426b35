import { Hono } from "hono";
import type { UpgradeWebSocket, WSContext } from "hono/ws";
import { newId, type FeedEvent, type Task } from "../../port/index.ts";
import type { ApiDeps, ApiEnv } from "../access.ts";
import { ChatflowError } from "../../errors.ts";
import { ApiError } from "../errors.ts";
import { CHAT_PREFIX, resolveChat } from "./chat-session.ts";
import { answerTask, writeIn } from "./shared.ts";

/**
 * The WebSocket of chat-module-design.md: `/chat/{flow_id}?chat_id=` (`Authorization: Bearer`,
 * or `?access_token=`). Every frame is `{type, data, trace_id}`; `trace_id` is the task's id
 * (or the frame's own, for an error answering a client frame). The server sends what happens
 * in the chat's session, from the event feed: `start` {task_id, workflow}, `message` {id,
 * role, is_bot, message, links?} (history, and replies/hints with `kind`), `progress`
 * {task_id, percent, step, state} (a question or review is a `progress` with state `waiting`,
 * `question`, `choices` or `draft`), `result` {task_id, message, links}, `error` {message},
 * `end` {task_id, status}, `interrupt` {task_id, by} (cancelled). The client sends `message`
 * (data: the text, or `{text}`/`{input}`; it answers a waiting question) and `interrupt`.
 * `flow_id` is `default` (or the workflow plain messages go to): messages are written as in a
 * chat; or another workflow's name: each message starts it.
 */
const RESERVED = new Set(["session", "message", "interrupt"]);

/** Whether a request path (without basePath) is a chat socket's: the upgrade filter lets these through. */
export function isChatSocketPath(path: string): boolean {
  const match = /^\/chat\/([^/]+)$/.exec(path);
  return match !== null && !RESERVED.has(decodeURIComponent(match[1]!));
}

type Frame = { type: string; data: unknown; trace_id: string };

/** A feed event as a frame of the old protocol; undefined for what it has no word for. */
export function frameOf(event: FeedEvent, user: string): Frame | undefined {
  const trace_id = event.taskId ?? `seq-${event.seq}`;
  const task_id = event.taskId ?? null;
  switch (event.type) {
    case "start":
      return { type: "start", data: { task_id, workflow: event.data.workflow }, trace_id };
    case "message":
      return { type: "message", data: { id: event.data.id, role: event.data.role, is_bot: event.data.role !== "user", message: event.data.text, source: event.data.source, ...(event.data.links ? { links: event.data.links } : {}) }, trace_id };
    case "reply":
      if (event.data.to !== undefined && event.data.to !== user) return undefined;
      return { type: "message", data: { id: event.data.messageId, role: "assistant", is_bot: true, kind: event.data.kind, message: event.data.text, ...(event.data.links ? { links: event.data.links } : {}) }, trace_id };
    case "progress":
      return { type: "progress", data: { task_id, percent: event.data.percent, step: event.data.step ?? null, state: event.data.state }, trace_id };
    case "question":
      return { type: "progress", data: { task_id, state: "waiting", question: event.data.question, choices: event.data.choices ?? null, expects_text: event.data.expectsText }, trace_id };
    case "review":
      return { type: "progress", data: { task_id, state: "waiting", question: event.data.question, draft: event.data.data ?? null }, trace_id };
    case "answered":
      return { type: "progress", data: { task_id, state: "running", answered: event.data.kind === "ask" ? event.data.answer : event.data.approved ? "approved" : "rejected" }, trace_id };
    case "result":
      return { type: "result", data: { task_id, message: event.data.text, links: event.data.links ?? [] }, trace_id };
    case "error":
      return { type: "error", data: { task_id, message: event.data.message }, trace_id };
    case "end":
      return { type: "end", data: { task_id, status: event.data.status }, trace_id };
    case "cancelled":
      return { type: "interrupt", data: { task_id, by: event.data.by ?? null }, trace_id };
  }
}

function textOf(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data && typeof data === "object") {
    for (const key of ["text", "input", "message"]) {
      const value = (data as Record<string, unknown>)[key];
      if (typeof value === "string") return value;
    }
  }
  return undefined;
}

export function chatSocketApp(deps: ApiDeps, upgradeWebSocket: UpgradeWebSocket): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { host } = deps;

  app.get(
    "/:flow_id",
    // Checked before the upgrade: a bad request gets its HTTP status (401, 400, 404), not a socket.
    upgradeWebSocket(async (c) => {
      const user = c.get("user");
      const flow = c.req.param("flow_id")!;
      const routed = flow === "default" || flow === host.messageWorkflow(deps.platform);
      if (!routed && !host.tasks.workflows().includes(flow)) throw new ApiError(404, "not_found", `There is no flow ${flow}: use "default" or one of: ${host.tasks.workflows().join(", ")}.`);
      const session = await resolveChat(deps, user, c.req.query("chat_id") ?? newId(16), true);
      let unsubscribe: (() => void) | undefined;
      const send = (ws: WSContext, frame: Frame) => ws.send(JSON.stringify(frame));
      const write = async (text: string): Promise<Task> => {
        if (routed) return writeIn(deps, { platform: deps.platform, channel: session.channel, user: user.id, direct: session.owner === user.id }, text, { answers: true });
        const active = await host.tasks.active(session.id);
        if (active?.status === "waiting") return answerTask(deps, user, active, active.waiting?.kind === "review" ? { approved: /^(y|yes|ok|approve|approved|true)$/i.test(text.trim()) } : { answer: text });
        const address = { platform: deps.platform, channel: session.channel, user: user.id, direct: session.owner === user.id };
        return (await host.tasks.start({ workflow: flow, request: { text }, address, sessionId: session.id })).task;
      };
      const received = async (ws: WSContext, raw: string) => {
        let frame: { type?: unknown; data?: unknown; trace_id?: unknown };
        try {
          frame = JSON.parse(raw) as typeof frame;
        } catch {
          return send(ws, { type: "error", data: { message: "A frame is JSON: {type, data, trace_id}." }, trace_id: "" });
        }
        const trace_id = typeof frame.trace_id === "string" ? frame.trace_id : newId(8);
        try {
          if (frame.type === "message") {
            const text = textOf(frame.data);
            if (!text?.trim()) return send(ws, { type: "error", data: { message: "data: the message's text (a string, or {text})." }, trace_id });
            await write(text);
          } else if (frame.type === "interrupt") {
            const active = await host.tasks.active(session.id);
            if (active) await host.tasks.cancel(active.id, user.id);
            else send(ws, { type: "end", data: { task_id: null, status: "idle" }, trace_id });
          } else {
            send(ws, { type: "error", data: { message: `Unknown type ${JSON.stringify(frame.type)}: send message or interrupt.` }, trace_id });
          }
        } catch (error) {
          // The API's and the engine's refusals say what to do; anything else stays on the server.
          const message = error instanceof ApiError || error instanceof ChatflowError ? error.message : "Something went wrong on the server; please try again.";
          send(ws, { type: "error", data: { message }, trace_id });
        }
      };
      return {
        onOpen(_event, ws) {
          unsubscribe = host.events.subscribe({ sessionId: session.id }, (event) => {
            const frame = frameOf(event, user.id);
            if (frame) send(ws, frame);
          });
        },
        onMessage(event, ws) {
          void received(ws, typeof event.data === "string" ? event.data : String(event.data));
        },
        onClose() {
          unsubscribe?.();
        },
      };
    }),
  );
  return app;
}

export { CHAT_PREFIX };
