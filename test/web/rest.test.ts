import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers.ts";
import { useWebBots, type WebBot } from "./web-setup.ts";

/** The REST API through real HTTP on 127.0.0.1: sessions, tasks, schedules, errors as `{error, message}`. */
const start = useWebBots(afterEach);

async function taskWhen(w: WebBot, id: string, predicate: (task: any) => boolean, as: "alice" | "rev" = "alice"): Promise<any> {
  let task: any;
  await eventually(async () => predicate((task = (await w.call("GET", `/api/v1/tasks/${id}`, { as })).body)), 10_000, `task ${id} to match`);
  return task;
}

describe("sessions", () => {
  it("create, list with paging, get, rename, delete; nobody else sees them", async () => {
    const w = await start();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await w.call("POST", "/api/v1/sessions", { body: { topic: `Topic ${i}` } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ platform: "web", owner: "alice", state: "idle", topic: `Topic ${i}` });
      ids.push(created.body.id);
    }
    const first = await w.call("GET", "/api/v1/sessions?limit=2");
    expect(first.body.items.map((s: any) => s.id)).toEqual([ids[4], ids[3]]);
    const third = await w.call("GET", "/api/v1/sessions?limit=2&offset=4");
    expect(third.body.items.map((s: any) => s.id)).toEqual([ids[0]]);
    const byCursor = await w.call("GET", `/api/v1/sessions?limit=2&cursor=${first.body.nextCursor}`);
    expect(byCursor.body.items.map((s: any) => s.id)).toEqual([ids[2], ids[1]]);

    const renamed = await w.call("PATCH", `/api/v1/sessions/${ids[0]}`, { body: { topic: "Renamed" } });
    expect(renamed.body.topic).toBe("Renamed");
    expect((await w.call("GET", `/api/v1/sessions/${ids[0]}`)).body.topic).toBe("Renamed");
    expect((await w.call("DELETE", `/api/v1/sessions/${ids[1]}`)).status).toBe(204);
    expect((await w.call("GET", "/api/v1/sessions?limit=50")).body.items).toHaveLength(4);
    expect((await w.call("GET", "/api/v1/sessions?state=closed")).body.items.map((s: any) => s.id)).toEqual([ids[1]]);

    // Bob sees none of them; the reviewer sees all.
    expect((await w.call("GET", "/api/v1/sessions", { as: "bob" })).body.items).toEqual([]);
    const bobGet = await w.call("GET", `/api/v1/sessions/${ids[0]}`, { as: "bob" });
    expect(bobGet.status).toBe(404);
    expect(bobGet.body).toEqual({ error: "not_found", message: `There is no session ${ids[0]}.` });
    expect((await w.call("PATCH", `/api/v1/sessions/${ids[0]}`, { as: "bob", body: { topic: "mine" } })).status).toBe(404);
    expect((await w.call("GET", "/api/v1/sessions", { as: "rev" })).body.items).toEqual([]);
    expect((await w.call("GET", "/api/v1/sessions?all=true", { as: "rev" })).body.items).toHaveLength(4);
    expect((await w.call("GET", "/api/v1/sessions?all=true", { as: "bob" })).status).toBe(403);
    expect((await w.call("GET", `/api/v1/sessions/${ids[0]}`, { as: "rev" })).status).toBe(200);
  });

  it("writing in a session starts a task, answers its question, and runs commands; history pages backwards", async () => {
    const w = await start();
    const session = (await w.call("POST", "/api/v1/sessions", { body: {} })).body;
    const sent = await w.call("POST", `/api/v1/sessions/${session.id}/messages`, { body: { text: "owls" } });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ outcome: "started", taskId: expect.any(String) });
    await taskWhen(w, sent.body.taskId, (t) => t.waitingFor?.kind === "question");
    const answer = await w.call("POST", `/api/v1/sessions/${session.id}/messages`, { body: { text: "Short summary" } });
    expect(answer.body).toEqual({ outcome: "answered", taskId: sent.body.taskId, reply: null });
    await taskWhen(w, sent.body.taskId, (t) => t.waitingFor?.kind === "review");
    const long = await w.call("POST", `/api/v1/sessions/${session.id}/messages`, { body: { text: "x".repeat(10_001) } });
    expect(long.status).toBe(400);
    expect(long.body.message).toBe("text: 10,001 characters; the limit is 10,000 (history.maxMessageLength).");
    const help = await w.call("POST", `/api/v1/sessions/${session.id}/messages`, { body: { text: "/help" } });
    expect(help.body).toMatchObject({ outcome: "replied", taskId: null, reply: expect.stringContaining("/status") });
    // /status answers with its text, not only "replied"; a retry with its key gets the same text.
    const status = await w.call("POST", `/api/v1/sessions/${session.id}/messages`, { body: { text: "/status" }, headers: { "Idempotency-Key": "status-1" } });
    expect(status.body.reply).toMatch(/^\*\*demo\*\* · waiting · \d+% .*waiting for a review/);
    const statusAgain = await w.call("POST", `/api/v1/sessions/${session.id}/messages`, { body: { text: "/status" }, headers: { "Idempotency-Key": "status-1" } });
    expect(statusAgain.body).toEqual(status.body);
    const messages = (await w.call("GET", `/api/v1/sessions/${session.id}/messages?limit=50`)).body.items;
    expect(messages.map((m: any) => [m.role, m.text])).toContainEqual(["user", "owls"]);
    expect(messages.map((m: any) => [m.role, m.text])).toContainEqual(["user", "Short summary"]);
    // The whole conversation, in order and with its source: the commands and what the bot replied to them.
    const tail = messages.slice(-4).map((m: any) => [m.role, m.source, m.text.split("\n")[0]]);
    expect(tail).toEqual([
      ["user", "command", "/help"],
      ["assistant", "command", expect.any(String)],
      ["user", "command", "/status"],
      ["assistant", "command", status.body.reply.split("\n")[0]],
    ]);
    const last = messages.at(-1);
    const before = (await w.call("GET", `/api/v1/sessions/${session.id}/messages?limit=2&before=${last.id}`)).body.items;
    expect(before.map((m: any) => m.id)).toEqual(messages.slice(-3, -1).map((m: any) => m.id));
    // An Idempotency-Key makes a retried POST start nothing twice.
    const again = { body: { text: "a detailed report on bats" }, headers: { "Idempotency-Key": "retry-1" } };
    const other = (await w.call("POST", "/api/v1/sessions", { body: {} })).body;
    const one = await w.call("POST", `/api/v1/sessions/${other.id}/messages`, again);
    const two = await w.call("POST", `/api/v1/sessions/${other.id}/messages`, again);
    expect(two.body.taskId).toBe(one.body.taskId);
    expect((await w.call("GET", `/api/v1/tasks?session=${other.id}`)).body.items).toHaveLength(1);
  });
});

describe("tasks", () => {
  it("POST /tasks validates, starts at once, and the task can be followed, answered, reviewed with an edit", async () => {
    const w = await start();
    const unknown = await w.call("POST", "/api/v1/tasks", { body: { workflow: "nope", input: {} } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/^workflow: there is no workflow "nope" \(known: .*demo/);
    const badInput = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: 42 } } });
    expect(badInput.status).toBe(400);
    expect(badInput.body).toMatchObject({ error: "bad_request", message: expect.stringMatching(/^input\.text: /) });
    const extra = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "x" }, colour: "red" } });
    expect(extra.status).toBe(400);
    expect(extra.body.message).toMatch(/colour/);

    const started = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "owls" } } });
    expect(started.status).toBe(202);
    const { taskId, sessionId } = started.body;
    const waiting = await taskWhen(w, taskId, (t) => t.status === "waiting");
    expect(waiting).toMatchObject({ sessionId, owner: "alice", workflow: "demo", waitingFor: { kind: "question", question: "Which kind of answer do you want?", choices: ["Short summary", "Detailed report"] } });
    expect(waiting.percent).toBeGreaterThan(0);

    const wrongChoice = await w.call("POST", `/api/v1/tasks/${taskId}/answer`, { body: { choice: "Poem" } });
    expect(wrongChoice.status).toBe(400);
    expect(wrongChoice.body.message).toBe('choice: "Poem" is not one of: Short summary, Detailed report.');
    const review = await w.call("POST", `/api/v1/tasks/${taskId}/review`, { body: { approved: true } });
    expect(review.status).toBe(409);
    expect((await w.call("POST", `/api/v1/tasks/${taskId}/answer`, { as: "bob", body: { choice: 1 } })).status).toBe(404);
    const answered = await w.call("POST", `/api/v1/tasks/${taskId}/answer`, { body: { choice: "detailed report" } });
    expect(answered.status).toBe(200);
    expect((await w.call("POST", `/api/v1/tasks/${taskId}/answer`, { body: { choice: 1 } })).status).toBe(409);

    const inReview = await taskWhen(w, taskId, (t) => t.waitingFor?.kind === "review");
    expect(inReview.waitingFor.data).toMatch(/^Report: owls/);
    const edited = await w.call("POST", `/api/v1/tasks/${taskId}/review`, { body: { approved: true, edited: "Owls, corrected.", feedback: "tighter" } });
    expect(edited.status).toBe(200);
    const done = await taskWhen(w, taskId, (t) => t.status === "completed");
    expect(done.result.text).toContain("Owls, corrected.");
    expect(done.result.links.map((l: any) => l.url)).toEqual([expect.stringContaining("wikipedia.org"), expect.stringContaining("openlibrary.org")]);
    expect(done.finishedAt).not.toBeNull();
    expect(Date.parse(done.updatedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
    expect((await w.call("POST", `/api/v1/tasks/${taskId}/cancel`)).status).toBe(409);
  });

  it("lists with filters and pages; a reviewer acts on anyone's task, others get 404; cancel stops a task", async () => {
    const w = await start({ config: { workflows: { demo: { stepDelayMs: 200 } } } });
    const a1 = (await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "short owls" } } })).body;
    const a2 = (await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "short bats" } } })).body;
    const b1 = (await w.call("POST", "/api/v1/tasks", { as: "bob", body: { workflow: "demo", input: { text: "short cats" } } })).body;
    const mine = (await w.call("GET", "/api/v1/tasks?workflow=demo")).body.items.map((t: any) => t.id);
    expect(mine).toEqual([a2.taskId, a1.taskId]);
    expect((await w.call("GET", "/api/v1/tasks?limit=1&offset=1")).body.items.map((t: any) => t.id)).toEqual([a1.taskId]);
    expect((await w.call("GET", `/api/v1/tasks?session=${a1.sessionId}`)).body.items.map((t: any) => t.id)).toEqual([a1.taskId]);
    expect((await w.call("GET", `/api/v1/tasks?session=${b1.sessionId}`)).status).toBe(404);
    expect((await w.call("GET", "/api/v1/tasks?workflow=assistant")).body.items).toEqual([]);
    expect((await w.call("GET", "/api/v1/tasks?all=true", { as: "rev" })).body.items).toHaveLength(3);
    expect((await w.call("GET", `/api/v1/tasks/${b1.taskId}`)).status).toBe(404);
    expect((await w.call("POST", `/api/v1/tasks/${b1.taskId}/cancel`)).status).toBe(404);

    const cancelled = await w.call("POST", `/api/v1/tasks/${b1.taskId}/cancel`, { as: "rev" });
    expect(cancelled.status).toBe(200);
    await taskWhen(w, b1.taskId, (t) => t.status === "cancelled", "rev");
    expect((await w.call("GET", "/api/v1/tasks?status=cancelled&all=true", { as: "rev" })).body.items.map((t: any) => t.id)).toEqual([b1.taskId]);
  });

  it("answers a malformed body, an unknown route and an oversize body with JSON errors", async () => {
    const w = await start({ web: { bodyLimitBytes: 2048 } });
    const malformed = await w.call("POST", "/api/v1/tasks", { body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe("bad_request");
    const missing = await w.call("POST", "/api/v1/sessions/x/messages", { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^text: /);
    const huge = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "x".repeat(5000) } } });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ error: "too_large", message: "The request body is over the limit of 2,048 bytes." });
    const nowhere = await w.call("GET", "/api/v1/nowhere");
    expect(nowhere.status).toBe(404);
    expect(nowhere.body).toEqual({ error: "not_found", message: "There is no GET /api/v1/nowhere." });
    // A method a route does not take: 405 with Allow, not "there is no such path".
    const put = await w.call("PUT", "/api/v1/sessions", { body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD, POST");
    expect(put.body).toEqual({ error: "method_not_allowed", message: "PUT is not allowed on /api/v1/sessions; use GET, HEAD, POST." });
    const deleteTask = await w.call("DELETE", "/api/v1/tasks/t-1");
    expect(deleteTask.status).toBe(405);
    expect(deleteTask.headers.get("allow")).toBe("GET, HEAD");
    // Only the page's own files are served beside the API.
    const noFile = await fetch(`${w.url}/secrets.js`);
    expect(noFile.status).toBe(404);
    expect(await noFile.json()).toEqual({ error: "not_found", message: "There is no GET /secrets.js." });
    for (const response of [malformed, missing, huge, nowhere]) expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+|Error:/);
  });
});

describe("schedules", () => {
  it("create, list, pause, resume and remove, with /schedule's rules", async () => {
    const w = await start();
    const session = (await w.call("POST", "/api/v1/sessions", { body: {} })).body;
    const bad = await w.call("POST", "/api/v1/schedules", { body: { sessionId: session.id, cron: "99 * * * *", text: "hi" } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/99/);
    const none = await w.call("POST", "/api/v1/schedules", { body: { sessionId: session.id, cron: "0 9 * * *" } });
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/one of text, prompt or workflow/);
    const created = await w.call("POST", "/api/v1/schedules", { body: { sessionId: session.id, cron: "0 9 * * 1-5", timezone: "Europe/Berlin", text: "Stand-up" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ cron: "0 9 * * 1-5", timezone: "Europe/Berlin", text: "Stand-up", enabled: true, sessionId: session.id, next: expect.any(String) });
    const id = created.body.id;
    expect((await w.call("GET", "/api/v1/schedules")).body.items.map((s: any) => s.id)).toEqual([id]);
    expect((await w.call("GET", "/api/v1/schedules", { as: "bob" })).body.items).toEqual([]);
    expect((await w.call("POST", `/api/v1/schedules/${id}/pause`, { as: "bob" })).status).toBe(404);
    const paused = await w.call("POST", `/api/v1/schedules/${id}/pause`);
    expect(paused.body).toMatchObject({ enabled: false, pausedReason: "paused by alice", next: null });
    expect((await w.call("POST", `/api/v1/schedules/${id}/resume`)).body.enabled).toBe(true);
    const prompt = await w.call("POST", "/api/v1/schedules", { body: { sessionId: session.id, cron: "0 9 * * *", prompt: "Say hi" } });
    expect(prompt.status).toBe(400);
    expect(prompt.body.message).toMatch(/LLM_API_KEY/);
    expect((await w.call("DELETE", `/api/v1/schedules/${id}`)).status).toBe(204);
    expect((await w.call("GET", "/api/v1/schedules")).body.items).toEqual([]);
  });
});

describe("compatibility routes", () => {
  it("POST /api/qa {question} → {task_id}, polled at GET /api/qa/{task_id} until completed", async () => {
    const w = await start();
    const asked = await w.call("POST", "/api/qa", { body: { question: "a short summary of owls" } });
    expect(asked.status).toBe(202);
    expect(asked.body).toEqual({ task_id: expect.any(String), status: "pending" });
    let polled: any;
    await eventually(async () => (polled = (await w.call("GET", `/api/qa/${asked.body.task_id}`)).body).waiting_for !== null, 10_000, "the review");
    expect(polled).toMatchObject({ status: "waiting", progress: expect.any(Number), answer: null });
    await w.call("POST", `/api/v1/tasks/${asked.body.task_id}/review`, { body: { approved: true } });
    await eventually(async () => (polled = (await w.call("GET", `/api/qa/${asked.body.task_id}`)).body).status === "completed", 10_000, "completed");
    expect(polled).toMatchObject({ progress: 100, answer: expect.stringContaining("owls"), links: [expect.stringContaining("wikipedia"), expect.stringContaining("openlibrary")], error: null });
  });
});
