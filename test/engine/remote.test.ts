import { afterEach, describe, expect, it } from "vitest";
import { createBot, type Bot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Address } from "../../src/model.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/port.ts";
import { createRecordingAdapter, type RecordingAdapter } from "../../src/testing/recording-adapter.ts";
import { createRemoteWorkflow } from "../../src/workflows/remote/index.ts";
import { startFakeWorkflowService, type FakeWorkflowService } from "../fakes/workflow-service/server.ts";

/** A remote workflow through the engine, against the fake workflow service. */
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const address: Address = { platform: "test", channel: "c1", user: "alice", direct: true };
let events = 0;

async function start(service: FakeWorkflowService, store: Store = createMemoryStore()): Promise<{ bot: Bot; adapter: RecordingAdapter; stop(): Promise<void> }> {
  const adapter = createRecordingAdapter();
  const report = createRemoteWorkflow({ name: "report", url: service.url, pollSeconds: 0.05, headers: { Authorization: "Bearer s3cret" } });
  const bot = await createBot({ config: { tasks: { retryBaseMs: 1 }, routes: { default: { message: "report" } } }, store, adapters: [adapter], workflows: [report], logger: silentLogger() });
  await bot.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await bot.stop();
  };
  stops.push(stop);
  return { bot, adapter, stop };
}

async function service(): Promise<FakeWorkflowService> {
  const fake = await startFakeWorkflowService({
    auth: { bearer: "s3cret" },
    autoAdvance: "poll",
    script: [{ progress: 30, step: "Fetching" }, { interrupt: { question: "Which region?", choices: ["EU", "US"] } }, { progress: 80, step: "Writing" }, { result: { text: "Report for {answer}: {input}", links: [{ url: "https://example.com/r", title: "The report" }] } }],
  });
  stops.push(() => fake.close());
  return fake;
}

describe("a remote workflow", () => {
  it("starts a run, mirrors progress, asks its interrupt, resumes with the answer, posts the result with links", async () => {
    const fake = await service();
    const t = await start(fake);
    await t.adapter.deliver({ kind: "message", id: `e${++events}`, address, text: "sales in Q3" });
    const question = await t.adapter.waitFor((m) => m.kind === "question" && m.text === "Which region?");
    expect(t.adapter.edits.some((e) => e.message.progress?.step === "Fetching")).toBe(true);
    await t.adapter.deliver({ kind: "action", id: `e${++events}`, address, actionId: question.message.actions![0]!.id });
    const result = await t.adapter.waitFor((m) => m.kind === "result");
    expect(result.message.text).toBe("Report for EU: sales in Q3");
    expect(result.message.links).toEqual([{ url: "https://example.com/r", title: "The report" }]);
    expect(fake.runs).toHaveLength(1);
    expect(fake.runs[0]).toMatchObject({ input: "sales in Q3", user: "alice", answers: ["EU"] });
    // The start carries the task id as its Idempotency-Key.
    const task = (await t.bot.store.listTasks({}, { limit: 1 })).items[0]!;
    expect(fake.requests.find((r) => r.method === "POST" && r.path.endsWith("/runs"))!.headers["idempotency-key"]).toBe(`chatflow-${task.id}`);
    expect(fake.violations).toEqual([]);
  });

  it("after a restart it reattaches to the same run instead of starting another", async () => {
    const fake = await service();
    fake.autoAdvance = undefined;
    const store = createMemoryStore();
    const first = await start(fake, store);
    await first.adapter.deliver({ kind: "message", id: `e${++events}`, address, text: "churn" });
    // Once the run is polled, its id is journaled: that is what a restart reattaches by.
    const run = await fake.waitUntil(() => fake.runs[0]?.polls ? fake.runs[0] : undefined, 5000, "the run polled");
    await first.stop();
    fake.autoAdvance = "poll";
    const second = await start(fake, store);
    const question = await second.adapter.waitFor((m) => m.kind === "question" && m.text === "Which region?");
    await second.adapter.deliver({ kind: "action", id: `e${++events}`, address, actionId: question.message.actions![1]!.id });
    const result = await second.adapter.waitFor((m) => m.kind === "result");
    expect(result.message.text).toBe("Report for US: churn");
    expect(fake.runs.map((r) => r.id)).toEqual([run.id]);
  });

  it("a cancel is forwarded to the service; a failed run fails the task with the service's reason", async () => {
    const fake = await service();
    fake.autoAdvance = undefined;
    const t = await start(fake);
    await t.adapter.deliver({ kind: "message", id: `e${++events}`, address, text: "x" });
    const run = await fake.waitUntil(() => fake.runs[0]?.polls ? fake.runs[0] : undefined, 5000, "the run polled");
    await t.adapter.deliver({ kind: "command", id: `e${++events}`, address, name: "cancel", args: "" });
    await fake.waitUntil(() => fake.run(run.id)?.cancelled, 5000, "the cancel forwarded");

    await t.adapter.deliver({ kind: "message", id: `e${++events}`, address, text: "y" });
    const second = await fake.waitUntil(() => fake.runs[1]?.polls ? fake.runs[1] : undefined, 5000, "the second run polled");
    fake.failRun(second.id, "the warehouse is closed");
    const failed = await t.adapter.waitFor((m) => m.kind === "notice" && m.text.includes("the warehouse is closed"));
    expect(failed.message.text).toContain("The report run failed: the warehouse is closed");
    expect((await t.bot.store.listTasks()).items.find((task) => task.status === "failed")).toBeDefined();
  });
});
