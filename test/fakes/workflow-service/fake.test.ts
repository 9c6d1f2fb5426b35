import { afterEach, describe, expect, it } from "vitest";
import { startFakeWorkflowService, type FakeWorkflowService, type RunState } from "./server.ts";

// The fake is only useful if it answers exactly as the contract in README.md says: proven here
// with plain fetch, the way chatflow's remote workflow will call it.

let fake: FakeWorkflowService | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const json = { "Content-Type": "application/json" };
const body = (value: unknown) => ({ method: "POST", headers: json, body: JSON.stringify(value) });

async function create(f: FakeWorkflowService, input: unknown = "weekly report", headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${f.url}/runs`, { ...body({ input, session: "s-1", user: { id: "u-1", name: "Ada" } }), headers: { ...json, ...headers } });
  expect(res.status).toBe(201);
  const { run_id } = (await res.json()) as { run_id: string };
  expect(typeof run_id).toBe("string");
  return run_id;
}
async function poll(f: FakeWorkflowService, id: string): Promise<{ status: number; state: RunState }> {
  const res = await fetch(`${f.url}/runs/${id}`);
  return { status: res.status, state: (await res.json()) as RunState };
}
const resume = (f: FakeWorkflowService, id: string, answer: unknown) => fetch(`${f.url}/runs/${id}/resume`, body({ answer }));
const cancel = (f: FakeWorkflowService, id: string) => fetch(`${f.url}/runs/${id}/cancel`, { method: "POST" });

describe("fake workflow service", () => {
  it("runs a script: progress phases, an interrupt resumed with an answer, a result with links that includes it", async () => {
    fake = await startFakeWorkflowService({
      script: [
        { progress: 10, step: "Fetching" },
        { progress: 40, step: "Drafting" },
        { interrupt: { question: "Which region?", choices: ["EU", "US"] } },
        { progress: 80, step: "Writing" },
        { result: { text: "Report for {input} in {answer}", links: [{ url: "https://example.com/r/1", title: "Report" }, { url: "https://example.com/raw" }] } },
      ],
    });
    const id = await create(fake);
    expect(fake.run(id)).toMatchObject({ input: "weekly report", session: "s-1", user: { id: "u-1", name: "Ada" }, status: "running" });
    expect((await poll(fake, id)).state).toEqual({ status: "running" });

    fake.advance(id);
    expect(await poll(fake, id)).toEqual({ status: 200, state: { status: "running", progress: 10, step: "Fetching" } });
    fake.advance(id);
    expect((await poll(fake, id)).state).toEqual({ status: "running", progress: 40, step: "Drafting" });
    fake.advance(id);
    expect((await poll(fake, id)).state).toEqual({ status: "interrupted", progress: 40, step: "Drafting", interrupt: { question: "Which region?", choices: ["EU", "US"] } });
    fake.advance(id); // an interrupted run waits for its answer
    expect(fake.run(id).status).toBe("interrupted");

    expect((await resume(fake, id, "EU")).status).toBe(202);
    expect(fake.run(id).answers).toEqual(["EU"]);
    expect((await poll(fake, id)).state).toEqual({ status: "running", progress: 80, step: "Writing" });
    fake.advance(id);
    expect((await poll(fake, id)).state).toEqual({
      status: "completed", progress: 100, step: "Writing",
      result: { text: "Report for weekly report in EU", links: [{ url: "https://example.com/r/1", title: "Report" }, { url: "https://example.com/raw" }] },
    });
    expect(fake.run(id).polls).toBe(6);
    expect(fake.violations).toEqual([]);
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`).slice(0, 3)).toEqual([`POST /runs 201`, `GET /runs/${id} 200`, `GET /runs/${id} 200`]);
  });

  it("a repeated Idempotency-Key gets the run it started, not a second one", async () => {
    fake = await startFakeWorkflowService();
    const first = await create(fake, "x", { "Idempotency-Key": "chatflow-t-1" });
    const repeated = await fetch(`${fake.url}/runs`, { ...body({ input: "x", session: "s-1", user: "u-1" }), headers: { ...json, "Idempotency-Key": "chatflow-t-1" } });
    expect(repeated.status).toBe(200);
    expect(((await repeated.json()) as { run_id: string }).run_id).toBe(first);
    const other = await create(fake, "x", { "Idempotency-Key": "chatflow-t-2" });
    expect(other).not.toBe(first);
    expect(fake.runs).toHaveLength(2);
  });

  it("advances on every poll when asked, and by time", async () => {
    fake = await startFakeWorkflowService({ autoAdvance: "poll" });
    const id = await create(fake, { topic: "q3" });
    const states: RunState[] = [];
    for (let i = 0; i < 4; i++) states.push((await poll(fake, id)).state);
    expect(states.map((s) => s.status)).toEqual(["running", "running", "completed", "completed"]);
    expect(states[2]!.result).toEqual({ text: 'Done: {"topic":"q3"}', links: [{ url: "https://example.com/report", title: "Report" }] });

    fake.autoAdvance = { everyMs: 5 };
    const timed = await create(fake);
    await fake.waitForStatus(timed, "completed", 2000);
    expect(fake.run(timed).result?.text).toBe("Done: weekly report");
  });

  it("picks a script per run, completes or fails a run on demand", async () => {
    fake = await startFakeWorkflowService({ script: (b) => (b.input === "doomed" ? [{ progress: 5 }, { fail: "upstream exploded" }] : [{ progress: 1 }]) });
    const doomed = await create(fake, "doomed");
    fake.advanceToEnd(doomed);
    expect((await poll(fake, doomed)).state).toEqual({ status: "failed", progress: 5, error: "upstream exploded" });

    const endless = await create(fake, "anything");
    fake.advanceToEnd(endless);
    expect(fake.run(endless).status).toBe("running");
    fake.complete(endless, { text: "early" });
    expect((await poll(fake, endless)).state).toMatchObject({ status: "completed", result: { text: "early" } });

    const other = await create(fake, "x");
    fake.failRun(other, "boom");
    expect((await poll(fake, other)).state).toEqual({ status: "failed", error: "boom" });
    expect(fake.violations).toEqual([]);
  });

  it("cancels: the run fails with error 'cancelled', cancel again is 202, cancel of a finished run 409", async () => {
    fake = await startFakeWorkflowService({ script: [{ interrupt: { question: "Go?" } }, { result: { text: "ok" } }] });
    const id = await create(fake);
    fake.advance(id);
    expect((await cancel(fake, id)).status).toBe(202);
    expect((await poll(fake, id)).state).toEqual({ status: "failed", error: "cancelled" });
    expect(fake.run(id)).toMatchObject({ cancelled: true, status: "failed" });
    expect((await cancel(fake, id)).status).toBe(202);

    const done = await create(fake);
    fake.advance(done);
    fake.resume(done, "yes");
    const late = await cancel(fake, done);
    expect(late.status).toBe(409);
    expect(await late.json()).toEqual({ error: `run ${done} is already completed` });
    expect(fake.violations).toEqual([]);
  });

  it("answers 404 for an unknown run, 409 for a resume at the wrong time, 400 for a bad body, each a violation", async () => {
    fake = await startFakeWorkflowService();
    const missing = await poll(fake, "run-999");
    expect(missing).toEqual({ status: 404, state: { error: "unknown run run-999" } });
    expect((await resume(fake, "run-999", "x")).status).toBe(404);

    const id = await create(fake);
    const early = await resume(fake, id, "too soon");
    expect(early.status).toBe(409);
    expect(await early.json()).toEqual({ error: `run ${id} is running, not interrupted` });
    expect(fake.run(id).answers).toEqual([]);

    const noInput = await fetch(`${fake.url}/runs`, body({ session: "s", user: "u" }));
    expect(noInput.status).toBe(400);
    expect(((await noInput.json()) as { error: string }).error).toContain('"input" is missing');
    const notJson = await fetch(`${fake.url}/runs`, { method: "POST", headers: json, body: "{input:" });
    expect(notJson.status).toBe(400);
    expect((await resume(fake, id, 42)).status).toBe(400);

    fake.forget(id);
    expect((await poll(fake, id)).status).toBe(404);
    expect((await fetch(`${fake.url}/runs/${id}`, { method: "DELETE" })).status).toBe(404);

    expect(fake.violations).toEqual([
      "GET /runs/run-999: unknown run run-999",
      "POST /runs/run-999/resume: unknown run run-999",
      `POST /runs/${id}/resume: resume while running`,
      'POST /runs: "input" is missing',
      "POST /runs: body is not valid JSON",
      `POST /runs/${id}/resume: body must be {answer: string}`,
      `DELETE /runs/${id}: no such route in the contract`,
    ]);
    expect(() => fake!.fail({ route: "poll" as "get", kind: "status" })).toThrow(/unknown route "poll"/);
  });

  it("injects 500/503, unreachable and malformed JSON, then serves normally", async () => {
    fake = await startFakeWorkflowService();
    fake.fail({ route: "create", kind: "status", status: 503 });
    const refused = await fetch(`${fake.url}/runs`, body({ input: "a", session: "s", user: "u" }));
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: "injected 503" });
    expect(fake.runs).toHaveLength(0); // failed before handling
    const id = await create(fake);

    fake.fail({ route: "get", kind: "status", times: 2 });
    expect((await poll(fake, id)).status).toBe(500);
    expect((await poll(fake, id)).status).toBe(500);
    expect((await poll(fake, id)).status).toBe(200);

    fake.fail({ route: "get", kind: "unreachable", runId: id });
    await expect(fetch(`${fake.url}/runs/${id}`)).rejects.toThrow();
    expect(fake.requests.at(-1)).toMatchObject({ route: "get", status: 0, failure: "unreachable" });

    fake.fail({ route: "*", kind: "malformed" });
    const bad = await fetch(`${fake.url}/runs/${id}`);
    expect(bad.status).toBe(200);
    await expect(bad.json()).rejects.toThrow(SyntaxError);
    expect((await poll(fake, id)).state).toEqual({ status: "running" });
    expect(fake.violations).toEqual([]);
  });

  it("loses the answer of a handled request, and answers slowly when asked", async () => {
    fake = await startFakeWorkflowService({ script: [{ interrupt: { question: "Name?" } }, { result: { text: "Hi {answer}" } }] });
    fake.fail({ route: "create", kind: "lost" });
    await expect(fetch(`${fake.url}/runs`, body({ input: "a", session: "s", user: "u" }))).rejects.toThrow();
    expect(fake.runs).toHaveLength(1); // created, though the client never heard
    const id = fake.runs[0]!.id;
    fake.advance(id);

    fake.fail({ route: "resume", kind: "lost" });
    await expect(resume(fake, id, "Ada")).rejects.toThrow();
    expect(fake.run(id)).toMatchObject({ status: "completed", answers: ["Ada"] });
    expect((await resume(fake, id, "Ada")).status).toBe(409); // the client's retry
    expect(fake.violations).toEqual([]); // a retry of the accepted answer is no violation...
    expect((await resume(fake, id, "Bob")).status).toBe(409);
    expect(fake.violations).toEqual([`POST /runs/${id}/resume: resume while completed`]); // ...another answer is

    fake.fail({ route: "get", kind: "slow", delayMs: 300 });
    await expect(fetch(`${fake.url}/runs/${id}`, { signal: AbortSignal.timeout(20) })).rejects.toThrow();
    expect((await poll(fake, id)).state).toMatchObject({ status: "completed", result: { text: "Hi Ada" } });
  });

  it("requires credentials when configured (401 without), and never records them", async () => {
    fake = await startFakeWorkflowService({ auth: { bearer: "s3cret" } });
    const anonymous = await fetch(`${fake.url}/runs`, body({ input: "a", session: "s", user: "u" }));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: "unauthorized" });
    const wrong = await fetch(`${fake.url}/runs/run-1`, { headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const id = await create(fake, "a", { Authorization: "Bearer s3cret" });
    expect(id).toBe("run-1");
    expect(fake.requests.at(-1)!.headers.authorization).toBe("[redacted]");
    expect(JSON.stringify(fake.requests)).not.toContain("s3cret");
    expect(fake.violations).toEqual(["POST /runs: missing or wrong credentials", "GET /runs/run-1: missing or wrong credentials"]);
    await fake.close();

    fake = await startFakeWorkflowService({ auth: { apiKey: "k-1" } });
    expect((await fetch(`${fake.url}/runs/run-1`)).status).toBe(401);
    expect((await fetch(`${fake.url}/runs/run-1`, { headers: { "X-Api-Key": "k-1" } })).status).toBe(404);
  });

  it("keeps its runs across a restart on the same port: a client reattaches by run id", async () => {
    fake = await startFakeWorkflowService({ script: [{ progress: 50, step: "Half" }, { interrupt: { question: "Continue?" } }, { result: { text: "after restart: {answer}" } }] });
    const id = await create(fake);
    fake.advance(id);
    const url = fake.url;

    await fake.stop();
    expect(fake.up).toBe(false);
    await expect(fetch(`${url}/runs/${id}`)).rejects.toThrow();
    await fake.start();
    expect(fake.url).toBe(url);
    expect((await poll(fake, id)).state).toEqual({ status: "running", progress: 50, step: "Half" });

    fake.advance(id);
    await fake.restart();
    expect((await poll(fake, id)).state).toMatchObject({ status: "interrupted", interrupt: { question: "Continue?" } });
    expect((await resume(fake, id, "yes")).status).toBe(202);
    expect((await poll(fake, id)).state).toMatchObject({ status: "completed", result: { text: "after restart: yes" } });
    expect((await create(fake)) !== id).toBe(true);
    expect(fake.violations).toEqual([]);
  });

  it("waits for conditions and says what it saw when they don't come", async () => {
    fake = await startFakeWorkflowService();
    const created = fake.waitForRequest((r) => r.route === "create");
    const id = await create(fake);
    expect((await created).runId).toBe(id);
    await expect(fake.waitUntil(() => fake!.run(id).status === "completed", 30, "completion")).rejects.toThrow(
      new RegExp(`Timed out after 30 ms waiting for completion\\. Runs: ${id}:running@-1\\. Requests: POST /runs 201`),
    );
  });
});
