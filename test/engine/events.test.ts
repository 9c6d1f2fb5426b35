import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createBot } from "../../src/app.ts";
import { NonRetriableError } from "../../src/errors.ts";
import { EventFeed } from "../../src/events/feed.ts";
import type { FeedEvent } from "../../src/events/types.ts";
import { silentLogger } from "../../src/logger.ts";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/port.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { createRecordingAdapter } from "../../src/testing/recording-adapter.ts";
import { waitForCondition } from "../fakes/wait.ts";
import { useTestBots } from "../helpers.ts";

const start = useTestBots(afterEach);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A listener that records what it gets, and a way to wait for a condition on it. */
function collector() {
  const events: FeedEvent[] = [];
  const changes = new EventEmitter();
  return {
    events,
    listener: (e: FeedEvent) => {
      events.push(e);
      changes.emit("change");
    },
    until<T>(condition: () => T | undefined | false, what: string): Promise<T> {
      return waitForCondition(changes, condition, 10_000, what, () => `Got: ${events.map((e) => `${e.seq}:${e.type}`).join(" ")}`);
    },
  };
}

const types = (events: FeedEvent[]) => events.map((e) => e.type);
/** The task events, with runs of progress shown once. */
const shape = (events: FeedEvent[]) => types(events.filter((e) => e.type !== "message")).filter((t, i, all) => !(t === "progress" && all[i - 1] === "progress"));

function expectIncreasing(events: FeedEvent[]): void {
  events.forEach((e, i) => {
    if (i > 0) expect(e.seq).toBeGreaterThan(events[i - 1]!.seq);
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "chatflow-events-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("the event feed of a bot", () => {
  it("a whole demo task: start, progress, question, review, result, end, with the messages, in order", async () => {
    const t = await start();
    const seen = collector();
    const unsubscribe = t.bot.events.subscribe({}, seen.listener, { after: 0 });
    await t.say("tell me about owls");
    const question = await t.expectSent("question", "Which kind of answer");
    await t.press(question.actions![1]!.id);
    const review = await t.expectSent("review", "Publish this draft?");
    await t.press(review.actions!.find((a) => a.role === "approve")!.id);
    await seen.until(() => seen.events.some((e) => e.type === "end"), "the end event");
    unsubscribe();

    const events = seen.events;
    expectIncreasing(events);
    expect(shape(events)).toEqual(["start", "progress", "question", "answered", "progress", "review", "answered", "progress", "result", "end"]);
    const task = (await t.store.listTasks()).items[0]!;
    const session = task.sessionId;
    for (const e of events) expect(e.sessionId).toBe(session);
    for (const e of events.filter((e) => e.type !== "message")) expect(e.taskId).toBe(task.id);

    const byType = <K extends FeedEvent["type"]>(type: K) => events.filter((e): e is FeedEvent<K> => e.type === type);
    expect(byType("start")[0]!.data).toEqual({ workflow: "demo" });
    expect(byType("question")[0]!.data).toEqual({ question: "Which kind of answer do you want?", choices: ["Short summary", "Detailed report"], expectsText: false });
    expect(byType("review")[0]!.data.question).toBe("Publish this draft?");
    expect(byType("review")[0]!.data.data).toContain("Report: tell me about owls");
    expect(byType("answered").map((e) => e.data)).toEqual([
      { kind: "ask", by: "alice", answer: "Detailed report" },
      { kind: "review", by: "alice", approved: true },
    ]);
    const result = byType("result")[0]!;
    expect(result.data.text).toBe(task.result!.text);
    expect(result.data.links).toHaveLength(2);
    expect(byType("end")[0]!.data).toEqual({ status: "completed" });
    const progress = byType("progress");
    expect(progress.at(-1)!.data).toMatchObject({ state: "running", percent: 90, step: "Polishing" });
    expect(progress.filter((p) => p.data.state === "waiting")).toHaveLength(2);

    // The messages: what the person wrote first, the question, the result before its event.
    const messages = byType("message");
    expect(events[0]).toMatchObject({ type: "message", data: { role: "user", source: "user", text: "tell me about owls", user: "alice" } });
    // The person's pressed answers enter the history too, as their messages, with the task they answered.
    expect(messages.map((m) => [m.data.role, m.data.text.split("\n")[0]])).toEqual([
      ["user", "tell me about owls"],
      ["assistant", "Which kind of answer do you want?"],
      ["user", "Detailed report"],
      ["assistant", "Publish this draft?"],
      ["user", "Approved"],
      ["assistant", task.result!.text.split("\n")[0]],
    ]);
    expect(messages[2]).toMatchObject({ taskId: task.id, data: { source: "user", user: "alice" } });
    expect(messages[5]).toMatchObject({ taskId: task.id, data: { source: "workflow", text: task.result!.text } });
    expect(events.indexOf(messages[5]!)).toBeLessThan(events.indexOf(result));

    // What the subscriber saw is what the store has.
    expect(await t.bot.events.read({}, { limit: 1000 })).toEqual(events);
    expect(await t.bot.events.read({ taskId: task.id }, { limit: 1000 })).toEqual(events.filter((e) => e.taskId === task.id));
  });

  it("a subscriber that joins late with `after` gets exactly what it missed, then live events", async () => {
    const t = await start();
    const early = collector();
    t.bot.events.subscribe({}, early.listener);
    await t.say("tell me about owls");
    const question = await t.expectSent("question", "Which kind of answer");
    const startEvent = await early.until(() => early.events.find((e) => e.type === "start"), "start");
    await early.until(() => early.events.some((e) => e.type === "message" && e.data.role === "assistant"), "the question's message");

    const late = collector();
    const unsubscribe = t.bot.events.subscribe({ sessionId: startEvent.sessionId }, late.listener, { after: startEvent.seq });
    await unsubscribe.ready;
    expect(late.events).toEqual(early.events.filter((e) => e.seq > startEvent.seq));
    await t.press(question.actions![0]!.id);
    const review = await t.expectSent("review");
    await t.press(review.actions!.find((a) => a.role === "approve")!.id);
    await late.until(() => late.events.some((e) => e.type === "end"), "the end event");
    await early.until(() => early.events.some((e) => e.type === "end"), "the end event");
    expect(late.events).toEqual(early.events.filter((e) => e.seq > startEvent.seq));
  });

  it("a cancelled task: cancelled (by whom), then end", async () => {
    const t = await start();
    const seen = collector();
    t.bot.events.subscribe({}, seen.listener);
    await t.say("tell me about owls");
    await t.expectSent("question", "Which kind of answer");
    await t.command("cancel");
    await seen.until(() => seen.events.some((e) => e.type === "end"), "the end event");
    const tail = seen.events.filter((e) => e.type !== "message").slice(-2);
    expect(tail.map((e) => [e.type, e.data])).toEqual([
      ["cancelled", { by: "alice" }],
      ["end", { status: "cancelled" }],
    ]);
  });

  it("a running task cancelled mid-step, and a failed task: error, then end", async () => {
    const slow = defineWorkflow({
      name: "slow",
      async run(ctx) {
        await ctx.progress(10, "waiting forever");
        await ctx.step("forever", (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))));
        return { text: "never" };
      },
    });
    const broken = defineWorkflow({
      name: "broken",
      async run(ctx) {
        await ctx.step("fails", () => {
          throw new NonRetriableError("the service said no");
        });
        return { text: "never" };
      },
    });
    const t = await start({ workflows: [slow, broken] });
    const seen = collector();
    t.bot.events.subscribe({}, seen.listener);
    await t.command("slow", "x");
    await seen.until(() => seen.events.some((e) => e.type === "progress" && e.data.percent === 10), "progress 10");
    await t.command("cancel");
    await seen.until(() => seen.events.some((e) => e.type === "end"), "the end of the slow task");
    expect(shape(seen.events)).toEqual(["start", "progress", "cancelled", "end"]);

    seen.events.length = 0;
    await t.command("broken", "x");
    await seen.until(() => seen.events.some((e) => e.type === "end"), "the end of the broken task");
    expect(shape(seen.events)).toEqual(["start", "progress", "error", "end"]);
    const [error, end] = seen.events.filter((e) => e.type === "error" || e.type === "end");
    expect(error!.data).toEqual({ message: "the service said no" });
    expect(end!.data).toEqual({ status: "failed" });
  });

  it("coalesces progress: a thousand reports store a few events, the last one always", async () => {
    const busy = defineWorkflow({
      name: "busy",
      async run(ctx) {
        for (let i = 0; i < 1000; i++) await ctx.progress(i / 20, `item ${i}`);
        return { text: "done" };
      },
    });
    const t = await start({ workflows: [busy] });
    const seen = collector();
    t.bot.events.subscribe({}, seen.listener);
    await t.say("go");
    await seen.until(() => seen.events.some((e) => e.type === "end"), "the end event");
    const progress = seen.events.filter((e): e is FeedEvent<"progress"> => e.type === "progress");
    expect(progress.length).toBeLessThan(20);
    expect(progress.at(-1)!.data).toEqual({ percent: 50, step: "item 999", state: "running" });
    const stored = (await t.bot.events.read({}, { limit: 1000 })).filter((e) => e.type === "progress");
    expect(stored).toEqual(progress);
  });

  it("listeners that throw or never finish hold up nothing", async () => {
    const t = await start({ workflows: [defineWorkflow({ name: "quick", run: async () => ({ text: "ok" }) })] });
    t.bot.events.subscribe({}, () => {
      throw new Error("listener bug");
    });
    t.bot.events.subscribe({}, () => new Promise<void>(() => undefined));
    const seen = collector();
    t.bot.events.subscribe({}, seen.listener);
    await t.say("go");
    await t.expectSent("result", "ok");
    await seen.until(() => seen.events.some((e) => e.type === "end"), "the end event");
  });
});

describe("EventFeed: replay and live without gaps or repeats", () => {
  const stores: Array<[string, () => Promise<Store>]> = [
    ["memory", async () => createMemoryStore()],
    ["lowdb", async () => createLowdbStore({ dir: await tempDir(), logger: { warn: () => undefined } })],
  ];
  for (const [name, makeStore] of stores) {
    it(`${name}: subscribers joining at any point while events pour in see each event once, in order`, async () => {
      const store = await makeStore();
      await store.open();
      cleanups.push(() => store.close());
      const feed = new EventFeed({ store, log: silentLogger() });
      const all = collector();
      feed.subscribe({}, all.listener);
      const sessions = ["a", "b", "c", "d"];
      const joined: Array<{ after: number; filter: string | undefined; got: FeedEvent[] }> = [];
      const publishes: Promise<void>[] = [];
      for (let round = 0; round < 60; round++) {
        for (let i = 0; i < 20; i++) {
          const sessionId = sessions[(round + i) % sessions.length]!;
          publishes.push(feed.publish({ type: "message", sessionId, data: { id: `${round}-${i}`, role: "user", text: `m ${round} ${i}`, source: "user" } }));
        }
        if (round % 6 === 3) {
          // Join from wherever the live stream is now, or from further back.
          const after = Math.max(0, (all.events.at(-1)?.seq ?? 0) - (round % 4) * 15);
          const filter = round % 12 === 3 ? undefined : sessions[round % sessions.length];
          const entry = { after, filter, got: [] as FeedEvent[] };
          joined.push(entry);
          feed.subscribe(filter ? { sessionId: filter } : {}, (e) => void entry.got.push(e), { after });
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(publishes);
      await feed.flush();
      expect(all.events).toHaveLength(1200);
      expectIncreasing(all.events);
      expect(await feed.read({}, { limit: 1000 })).toEqual(all.events.slice(0, 1000));
      for (const entry of joined) {
        const expected = all.events.filter((e) => e.seq > entry.after && (entry.filter === undefined || e.sessionId === entry.filter));
        expect(entry.got.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
      }
      expect(joined.length).toBeGreaterThanOrEqual(8);
    });
  }
});

describe("the event feed with the lowdb store", () => {
  it("survives a restart: nothing lost or repeated, numbering goes on", async () => {
    const dir = await tempDir();
    const quick = defineWorkflow({
      name: "quick",
      async run(ctx, input: { text: string }) {
        await ctx.progress(50, "half");
        return { text: `done: ${input.text}` };
      },
    });
    const run = async (text: string): Promise<FeedEvent[]> => {
      const adapter = createRecordingAdapter();
      const bot = await createBot({
        config: { routes: { default: { message: "quick", commands: {} } }, scheduler: { enabled: false } },
        store: createLowdbStore({ dir, logger: { warn: () => undefined } }),
        adapters: [adapter],
        workflows: [quick],
        logger: silentLogger(),
      });
      await bot.start();
      const seen = collector();
      bot.events.subscribe({}, seen.listener);
      await adapter.deliver({ kind: "message", id: `e-${text}`, address: { platform: "test", channel: "c1", user: "alice" }, text });
      await seen.until(() => seen.events.some((e) => e.type === "end"), "the end event");
      await bot.stop();
      return seen.events;
    };
    const first = await run("one");
    expect(shape(first)).toEqual(["start", "progress", "result", "end"]);
    const second = await run("two");
    expect(second[0]!.seq).toBeGreaterThan(first.at(-1)!.seq);

    const store = createLowdbStore({ dir, logger: { warn: () => undefined } });
    await store.open();
    cleanups.push(() => store.close());
    const stored = await store.readFeed({}, { limit: 1000 });
    expect(stored).toEqual([...first, ...second]);
    expectIncreasing(stored as FeedEvent[]);
  });
});
