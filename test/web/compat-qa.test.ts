import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers.ts";
import { asyncQaClient } from "./compat-clients/async-qa-client.ts";
import { COMPAT_WORKFLOWS, routeTo } from "./compat-workflows.ts";
import { TOKENS, useWebBots, type WebBot } from "./web-setup.ts";

/** `adapters.web.compat: ["qa-async"]`: async-qa-api.md's routes and its polling client, over HTTP on 127.0.0.1. */
const start = useWebBots(afterEach);
const quiet = { log: () => undefined, error: () => undefined };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The document's client, with relative URLs resolved against the server (and a token, when given); its 2 s waits shortened. */
function client(w: WebBot, token?: string) {
  const fetchAt = (path: string, init: RequestInit = {}) => fetch(`${w.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
  return asyncQaClient({ fetch: fetchAt, console: quiet, setTimeout: (fn, ms) => setTimeout(fn, ms / 40) });
}
const bot = (workflow = "echo", tokens = true) => start({ web: { compat: ["qa-async"] }, workflows: COMPAT_WORKFLOWS, config: routeTo(workflow), tokens });

describe("qa-async (async-qa-api.md)", () => {
  it("the document's client, run as written with no credentials configured: ask, poll, result; a follow-up shares the chat's history", async () => {
    const w = await bot("echo", false);
    const qa = client(w);
    const result = await qa.pollTaskStatus(await qa.ask());
    expect(Object.keys(result).sort()).toEqual(["code", "data", "msg"]);
    expect(result.code).toBe(200);
    expect(result.msg).toBe("success");
    expect(Object.keys(result.data).sort()).toEqual(["chat_meta", "error", "messages", "session_title"]);
    expect(result.data.error).toBeNull();
    expect(result.data.session_title).toBe("孕妇最近出现头晕症状，需要什么建议？");
    // Extra fields are kept: chat_meta carries everything the request had but `input`.
    expect(result.data.chat_meta).toMatchObject({ maternal_id: 123, chat_id: "chat_123_pregnant_mother_uuid", user_type: "pregnant_mother", file_id: [] });
    expect(result.data.messages[0]).toEqual({ role: "user", content: "孕妇最近出现头晕症状，需要什么建议？" });
    expect(result.data.messages[1]).toMatchObject({ role: "assistant", content: "echo: 孕妇最近出现头晕症状，需要什么建议？ (history 1)" });
    // The same chat_id again: the workflow sees the first question and its answer.
    const again = await qa.pollTaskStatusWithTimeout(await qa.ask(), 10_000);
    expect(again.data.messages.at(-1).content).toMatch(/\(history 3\)$/);
  });

  it("POST /qa/async and GET …/status answer the documented envelopes, field by field", async () => {
    const w = await bot();
    const body = { input: "dizzy", maternal_id: 7, chat_id: "c-1", user_type: "pregnant_mother", timestamp: "2025-09-22T10:30:00.000Z", file_id: [] };
    const created = await w.call("POST", "/api/v2/chat/qa/async", { body });
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(["code", "data", "msg"]);
    expect(created.body).toMatchObject({ code: 200, msg: "任务已创建，请使用task_id查询状态" });
    const id = created.body.data.task_id;
    expect(created.body.data).toEqual({ task_id: expect.any(String), status: "pending", created_at: expect.stringMatching(ISO), status_url: `/api/v2/chat/qa/task/${id}/status` });
    let polled: any;
    await eventually(async () => (polled = (await w.call("GET", created.body.data.status_url)).body).data.status === "completed", 10_000, "completed");
    expect(polled).toMatchObject({ code: 200, msg: "获取任务状态成功" });
    expect(polled.data).toMatchObject({ task_id: id, status: "completed", created_at: created.body.data.created_at, started_at: expect.stringMatching(ISO), completed_at: expect.stringMatching(ISO), progress: 100, error: null, question: null });
    expect(polled.data.result).toMatchObject({ code: 200, msg: "success", data: { chat_meta: { maternal_id: 7, timestamp: body.timestamp }, error: null } });
  });

  it("a task waiting for a person shows `waiting` with its question; the client keeps polling until it is answered on the answer route", async () => {
    const w = await bot("asker");
    const qa = client(w, TOKENS.alice);
    const id = await qa.ask();
    const polling = qa.pollTaskStatusWithTimeout(id, 20_000);
    let polled: any;
    await eventually(async () => (polled = (await w.call("GET", `/api/v2/chat/qa/task/${id}/status`)).body).data.status === "waiting", 10_000, "waiting");
    expect(polled.data).toMatchObject({ status: "waiting", completed_at: null, result: null, error: null, answer_url: `/api/v2/chat/qa/task/${id}/answer` });
    expect(polled.data.question).toEqual({ kind: "question", question: 'Which size for "孕妇最近出现头晕症状，需要什么建议？"?', choices: ["small", "large"] });
    // Another question in the same chat meanwhile is refused, in the document's shape.
    const busy = await w.call("POST", "/api/v2/chat/qa/async", { body: { input: "more", chat_id: "chat_123_pregnant_mother_uuid" } });
    expect(busy.status).toBe(409);
    expect(busy.body).toEqual({ code: 409, msg: expect.stringContaining("waits for an answer"), data: null });
    const wrong = await w.call("POST", polled.data.answer_url, { body: { answer: "medium" } });
    expect(wrong.body).toEqual({ code: 400, msg: expect.stringContaining("small, large"), data: null });
    const answered = await w.call("POST", polled.data.answer_url, { body: { answer: 2 } });
    expect(answered.body).toEqual({ code: 200, msg: "回答已提交", data: { task_id: id, status: expect.stringMatching(/pending|running|completed/) } });
    const result = await polling;
    expect(result.data.messages.at(-1).content).toBe("large 孕妇最近出现头晕症状，需要什么建议？");
  });

  it("the synchronous POST /qa answers the result; errors are {code, msg, data: null}; others' tasks are 404; no credential is 401", async () => {
    const w = await bot();
    const sync = await w.call("POST", "/api/v2/chat/qa", { body: { input: "owls", chat_id: "s-1" } });
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({ code: 200, msg: "success", data: { session_title: "owls", error: null, messages: [{ role: "user", content: "owls" }, { role: "assistant", content: "echo: owls (history 1)" }] } });
    expect(await w.call("POST", "/api/v2/chat/qa/async", { body: { chat_id: "x" } })).toMatchObject({ status: 400, body: { code: 400, msg: expect.stringContaining("input"), data: null } });
    const mine = await w.call("POST", "/api/v2/chat/qa/async", { body: { input: "mine", chat_id: "same" } });
    expect(await w.call("GET", `/api/v2/chat/qa/task/${mine.body.data.task_id}/status`, { as: "bob" })).toMatchObject({ status: 404, body: { code: 404, data: null } });
    expect(await w.call("GET", `/api/v2/chat/qa/task/${mine.body.data.task_id}/status`, { as: null })).toMatchObject({ status: 401, body: { code: 401, msg: expect.any(String), data: null } });
    // Bob's chat_id "same" is his own conversation: he sees no history of Alice's.
    const bobs = await w.call("POST", "/api/v2/chat/qa", { body: { input: "his", chat_id: "same" }, as: "bob" });
    expect(bobs.body.data.messages.at(-1).content).toBe("echo: his (history 1)");
  });

  it("the synchronous route gives up after its wait with 504 and the status URL", async () => {
    const { SYNC_WAIT } = await import("../../src/api/compat/index.ts");
    const w = await bot("stuck");
    const before = SYNC_WAIT.ms;
    SYNC_WAIT.ms = 200;
    try {
      const sync = await w.call("POST", "/api/v2/chat/qa", { body: { input: "forever" } });
      expect(sync.status).toBe(504);
      expect(sync.body).toMatchObject({ code: 504, data: { status: "running", status_url: expect.stringMatching(/^\/api\/v2\/chat\/qa\/task\/.+\/status$/) } });
    } finally {
      SYNC_WAIT.ms = before;
    }
  });

  it("is 404 when adapters.web.compat does not list it", async () => {
    const w = await start({ workflows: COMPAT_WORKFLOWS, config: routeTo("echo") });
    expect((await w.call("POST", "/api/v2/chat/qa/async", { body: { input: "x" } })).status).toBe(404);
    expect((await w.call("GET", "/api/v2/chat/qa/task/t-1/status")).status).toBe(404);
    expect((await w.call("POST", "/api/v2/chat/qa", { body: { input: "x" } })).status).toBe(404);
  });
});

describe("the /api/qa alias", () => {
  it("reports a task waiting for a question as `waiting` with its choices, takes the answer on POST /api/qa/{id}/answer, and documents it", async () => {
    const w = await start({ workflows: COMPAT_WORKFLOWS, config: routeTo("asker") });
    const asked = await w.call("POST", "/api/qa", { body: { question: "tea" } });
    let polled: any;
    await eventually(async () => (polled = (await w.call("GET", `/api/qa/${asked.body.task_id}`)).body).status === "waiting", 10_000, "waiting");
    expect(polled).toMatchObject({ status: "waiting", answer: null, waiting_for: 'Which size for "tea"?', question: { kind: "question", question: 'Which size for "tea"?', choices: ["small", "large"] } });
    expect((await w.call("POST", `/api/qa/${asked.body.task_id}/answer`, { body: { answer: "small" } })).status).toBe(200);
    expect((await w.call("POST", `/api/qa/${asked.body.task_id}/answer`, { body: { answer: "small" } })).status).toBe(409);
    await eventually(async () => (polled = (await w.call("GET", `/api/qa/${asked.body.task_id}`)).body).status === "completed", 10_000, "completed");
    expect(polled).toMatchObject({ answer: "small tea", question: null, waiting_for: null });
    const doc = (await w.call("GET", "/api/v1/openapi.json")).body;
    expect(doc.paths["/qa/{id}/answer"].post.servers).toEqual([{ url: "/api" }]);
    expect(doc.paths["/qa/{id}"].get.responses["200"].content["application/json"].schema.properties.status.enum).toContain("waiting");
  });
});
