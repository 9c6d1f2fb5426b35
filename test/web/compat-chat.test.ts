import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers.ts";
import { COMPAT_WORKFLOWS, routeTo } from "./compat-workflows.ts";
import { TOKENS, useWebBots } from "./web-setup.ts";

/**
 * `simple-chat` (flask-chat-assistant.md) and `chat-session` (chat-module-design.md) over HTTP
 * and WebSocket on 127.0.0.1. Neither document has client code: the requests are the
 * documented ones, and the answers are checked against the documented shapes field by field.
 */
const start = useWebBots(afterEach);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("simple-chat (flask-chat-assistant.md)", () => {
  it("POST /api/chat {message} → {success, reply}; GET /api/history; GET /api/health", async () => {
    const w = await start({ web: { compat: ["simple-chat"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("echo") });
    const first = await w.call("POST", "/api/chat", { body: { message: "hello" } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ success: true, reply: "echo: hello (history 1)" });
    expect((await w.call("POST", "/api/chat", { body: { message: "again" } })).body).toEqual({ success: true, reply: "echo: again (history 3)" });
    const history = await w.call("GET", "/api/history");
    expect(Object.keys(history.body).sort()).toEqual(["messages", "success"]);
    expect(history.body.messages).toEqual([
      { role: "user", content: "hello", timestamp: expect.stringMatching(ISO), is_scheduled: false },
      { role: "assistant", content: "echo: hello (history 1)", timestamp: expect.stringMatching(ISO), is_scheduled: false },
      { role: "user", content: "again", timestamp: expect.stringMatching(ISO), is_scheduled: false },
      { role: "assistant", content: "echo: again (history 3)", timestamp: expect.stringMatching(ISO), is_scheduled: false },
    ]);
    expect((await w.call("GET", "/api/history", { as: "bob" })).body).toEqual({ success: true, messages: [] });
    expect((await w.call("GET", "/api/health")).body).toEqual({ status: "ok", scheduler_running: true });
    expect(await w.call("POST", "/api/chat", { body: {} })).toMatchObject({ status: 400, body: { success: false, error: expect.stringContaining("message") } });
    expect(await w.call("GET", "/api/history", { as: null })).toMatchObject({ status: 401, body: { success: false, error: expect.any(String) } });
  });

  it("a question is the reply and the next message answers it; no answer in time is {success: false, error}", async () => {
    const { SYNC_WAIT } = await import("../../src/api/compat/index.ts");
    const w = await start({ web: { compat: ["simple-chat"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("asker") });
    expect((await w.call("POST", "/api/chat", { body: { message: "tea" } })).body).toEqual({ success: true, reply: 'Which size for "tea"?\n1. small\n2. large' });
    expect((await w.call("POST", "/api/chat", { body: { message: "2" } })).body).toEqual({ success: true, reply: "large tea" });
    const slow = await start({ web: { compat: ["simple-chat"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("stuck") });
    const before = SYNC_WAIT.ms;
    SYNC_WAIT.ms = 200;
    try {
      expect((await slow.call("POST", "/api/chat", { body: { message: "x" } })).body).toEqual({ success: false, error: expect.stringContaining("still being worked on") });
    } finally {
      SYNC_WAIT.ms = before;
    }
  });

  it("is 404 when not listed", async () => {
    const w = await start({ web: { compat: ["qa-async"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("echo") });
    expect((await w.call("POST", "/api/chat", { body: { message: "x" } })).status).toBe(404);
    expect((await w.call("GET", "/api/history")).status).toBe(404);
    expect((await w.call("GET", "/api/health")).status).toBe(404);
  });
});

/** Frames of a socket, as they come. */
function frames(socket: WebSocket): any[] {
  const got: any[] = [];
  socket.on("message", (data) => got.push(JSON.parse(String(data))));
  return got;
}
const opened = (socket: WebSocket) => new Promise<void>((resolve, reject) => (socket.once("open", () => resolve()), socket.once("error", reject), socket.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))));

describe("chat-session (chat-module-design.md)", () => {
  it("sessions: create, list, get, update, delete; message history; in Bisheng's envelope with the documented fields", async () => {
    const w = await start({ web: { compat: ["chat-session"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("echo") });
    const created = await w.call("POST", "/chat/session/create", { body: { chat_id: "chat-1", flow_id: "default", topic: "Owls" } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      status_code: 200,
      status_message: "SUCCESS",
      data: { id: expect.any(String), user_id: "alice", chat_id: "chat-1", flow_id: null, chat_type: "workflow", topic: "Owls", logo: null, state: "idle", create_time: expect.stringMatching(ISO), update_time: expect.stringMatching(ISO) },
    });
    const list = await w.call("GET", "/chat/session/list?page=1&limit=10");
    expect(list.body.data).toMatchObject({ total: 1, page: 1, limit: 10, list: [{ chat_id: "chat-1", topic: "Owls" }] });
    expect((await w.call("GET", "/chat/session/list", { as: "bob" })).body.data.total).toBe(0);
    expect((await w.call("GET", "/chat/session/chat-1")).body.data.id).toBe(created.body.data.id);
    expect((await w.call("GET", `/chat/session/${created.body.data.id}`)).body.data.chat_id).toBe("chat-1");
    expect((await w.call("PUT", "/chat/session/chat-1", { body: { topic: "Barn owls" } })).body.data.topic).toBe("Barn owls");
    expect(await w.call("GET", "/chat/session/chat-1", { as: "bob" })).toMatchObject({ status: 404, body: { status_code: 404, data: null } });
    expect(await w.call("GET", "/chat/session/list", { as: null })).toMatchObject({ status: 401, body: { status_code: 401, data: null } });
    expect((await w.call("DELETE", "/chat/session/chat-1")).body).toEqual({ status_code: 200, status_message: "SUCCESS", data: null });
    expect((await w.call("GET", "/chat/session/list")).body.data.total).toBe(0);
    expect((await w.call("GET", "/chat/message/history?chat_id=nope")).status).toBe(404);
  });

  it("the WebSocket /chat/{flow_id}?chat_id= speaks {type, data, trace_id}: message → start, progress, result, end; history; interrupt", async () => {
    const w = await start({ web: { compat: ["chat-session"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("echo") });
    const socket = new WebSocket(`${w.url.replace("http", "ws")}/chat/default?chat_id=ws-1`, { headers: { Authorization: `Bearer ${TOKENS.alice}` } });
    const got = frames(socket);
    await opened(socket);
    socket.send(JSON.stringify({ type: "message", data: { text: "owls" }, trace_id: "t1" }));
    await eventually(() => got.some((f) => f.type === "end"), 10_000, "end");
    for (const frame of got) expect(Object.keys(frame).sort()).toEqual(["data", "trace_id", "type"]);
    const types = got.map((f) => f.type);
    expect(types).toEqual(expect.arrayContaining(["message", "start", "progress", "result", "end"]));
    const result = got.find((f) => f.type === "result");
    expect(result).toEqual({ type: "result", data: { task_id: expect.any(String), message: "echo: owls (history 1)", links: [] }, trace_id: result.data.task_id });
    expect(got.find((f) => f.type === "end").data).toEqual({ task_id: result.data.task_id, status: "completed" });
    expect(got.find((f) => f.type === "message" && f.data.role === "user").data).toMatchObject({ is_bot: false, message: "owls" });
    socket.send("not json");
    socket.send(JSON.stringify({ type: "dance", trace_id: "t2" }));
    await eventually(() => got.filter((f) => f.type === "error").length === 2, 5_000, "two errors");
    expect(got.filter((f) => f.type === "error")[1]).toEqual({ type: "error", data: { message: expect.stringContaining("Unknown type") }, trace_id: "t2" });
    socket.close();
    const history = await w.call("GET", "/chat/message/history?chat_id=ws-1");
    expect(history.body.data.map((m: any) => [m.is_bot, m.message])).toEqual([
      [false, "owls"],
      [true, "echo: owls (history 1)"],
    ]);
    expect(Object.keys(history.body.data[0]).sort()).toEqual(["chat_id", "chat_type", "create_time", "extra", "flow_id", "id", "is_bot", "message", "source", "user_id"]);
    expect(history.body.data[0]).toMatchObject({ chat_id: "ws-1", user_id: "alice" });
  });

  it("a question is a progress frame in state waiting; a message answers it; interrupt over the socket and POST /chat/interrupt cancel", async () => {
    const w = await start({ web: { compat: ["chat-session"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("asker") });
    const socket = new WebSocket(`${w.url.replace("http", "ws")}/chat/default?chat_id=ws-2&access_token=${TOKENS.alice}`);
    const got = frames(socket);
    await opened(socket);
    socket.send(JSON.stringify({ type: "message", data: "tea", trace_id: "a" }));
    await eventually(() => got.some((f) => f.type === "progress" && f.data.question), 10_000, "the question");
    expect(got.find((f) => f.data.question).data).toMatchObject({ state: "waiting", question: 'Which size for "tea"?', choices: ["small", "large"] });
    socket.send(JSON.stringify({ type: "message", data: { text: "small" }, trace_id: "b" }));
    await eventually(() => got.some((f) => f.type === "result"), 10_000, "the result");
    expect(got.find((f) => f.type === "result").data.message).toBe("small tea");
    socket.send(JSON.stringify({ type: "message", data: "coffee", trace_id: "c" }));
    await eventually(() => got.filter((f) => f.data.question).length === 2, 10_000, "the second question");
    socket.send(JSON.stringify({ type: "interrupt", trace_id: "d" }));
    await eventually(() => got.some((f) => f.type === "interrupt"), 10_000, "interrupt");
    expect(got.find((f) => f.type === "end" && f.data.status === "cancelled")).toBeDefined();
    socket.close();
    expect((await w.call("POST", "/chat/interrupt", { body: { chat_id: "ws-2" } })).body).toEqual({ status_code: 200, status_message: "SUCCESS", data: null });
  });

  it("refuses a socket without a credential (401) or to an unknown flow (404); is 404 when not listed", async () => {
    const w = await start({ web: { compat: ["chat-session"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("echo") });
    await expect(opened(new WebSocket(`${w.url.replace("http", "ws")}/chat/default?chat_id=x`))).rejects.toThrow("HTTP 401");
    await expect(opened(new WebSocket(`${w.url.replace("http", "ws")}/chat/nope?chat_id=x&access_token=${TOKENS.alice}`))).rejects.toThrow("HTTP 404");
    const off = await start({ web: { compat: ["simple-chat"] }, workflows: COMPAT_WORKFLOWS, config: routeTo("echo") });
    expect((await off.call("GET", "/chat/session/list")).status).toBe(404);
    expect((await off.call("POST", "/chat/interrupt", { body: { chat_id: "x" } })).status).toBe(404);
    await expect(opened(new WebSocket(`${off.url.replace("http", "ws")}/chat/default?chat_id=x&access_token=${TOKENS.alice}`))).rejects.toThrow("HTTP 400");
  });
});
