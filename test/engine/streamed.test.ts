import { afterEach, describe, expect, it } from "vitest";
import { createBot, type Bot } from "../../src/app.ts";
import { Delivery } from "../../src/delivery.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { StreamedMessage } from "../../src/tasks/streamed-message.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { createRecordingAdapter, type RecordingAdapter } from "../../src/testing/recording-adapter.ts";

const bots: Bot[] = [];
afterEach(async () => {
  await Promise.all(bots.splice(0).map((b) => b.stop()));
});

const words = Array.from({ length: 60 }, (_, i) => `word${i}`);

/** Shows the words one by one, as a model's stream would; the first attempt is cut off half way. */
const streaming = (failFirst: boolean) => {
  let attempts = 0;
  return defineWorkflow({
    name: "streaming",
    async run(ctx) {
      const out = ctx.stream("answer");
      const text = await ctx.step("model", async () => {
        attempts++;
        let sofar = "";
        for (const [i, word] of words.entries()) {
          sofar = sofar ? `${sofar} ${word}` : word;
          out.show(sofar);
          await new Promise((resolve) => setTimeout(resolve, 2));
          if (failFirst && attempts === 1 && i === 20) throw new Error("the stream died half way");
        }
        return sofar;
      });
      const shownIn = await out.finish(text);
      return { text, shownIn };
    },
  });
};

async function start(adapter: RecordingAdapter, failFirst = false) {
  const bot = await createBot({ config: { tasks: { retryBaseMs: 1 }, routes: { default: { message: "streaming" } } }, store: createMemoryStore(), adapters: [adapter], workflows: [streaming(failFirst)], logger: silentLogger() });
  await bot.start();
  bots.push(bot);
  return bot;
}

describe("a streamed answer", () => {
  it("is one message edited at the adapter's pace, ending on the whole text, not posted again as the result, and in history", async () => {
    const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 40 } });
    const bot = await start(adapter);
    await adapter.deliver({ kind: "message", id: "e1", address: { platform: "test", channel: "c", user: "u" }, text: "go" });
    const task = await waitFor(async () => (await bot.store.listTasks()).items.find((t) => t.status === "completed"));
    const answers = adapter.sent.filter((s) => s.message.kind === "reply" && s.message.taskId === task.id);
    expect(answers).toHaveLength(1);
    const edits = adapter.edits.filter((e) => e.messageId === answers[0]!.id);
    expect(edits.length).toBeGreaterThan(0);
    // Coalesced: far fewer edits than words shown.
    expect(edits.length).toBeLessThan(words.length / 2);
    expect(edits.at(-1)!.message.text).toBe(words.join(" "));
    expect(adapter.sent.filter((s) => s.message.kind === "result")).toEqual([]);
    const history = await bot.store.listMessages(task.sessionId, 10);
    expect(history.at(-1)).toMatchObject({ role: "assistant", text: words.join(" "), platformMessageId: answers[0]!.id });
  });

  it("continues in a next message when it outgrows one; a stream cut off and made again edits the same messages", async () => {
    const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 10, maxTextLength: 150 } });
    const bot = await start(adapter, true);
    await adapter.deliver({ kind: "message", id: "e1", address: { platform: "test", channel: "c", user: "u" }, text: "go" });
    const task = await waitFor(async () => (await bot.store.listTasks()).items.find((t) => t.status === "completed"));
    const answers = adapter.sent.filter((s) => s.message.kind === "reply" && s.message.taskId === task.id);
    expect(answers.length).toBeGreaterThan(1);
    const last = new Map<string, string>();
    for (const s of answers) last.set(s.id, s.message.text);
    for (const e of adapter.edits) if (last.has(e.messageId)) last.set(e.messageId, e.message.text);
    expect([...last.values()].join(" ")).toBe(words.join(" "));
    for (const text of last.values()) expect(text.length).toBeLessThanOrEqual(150);
  });

  it("after a restart, the same messages are edited again (their ids are in the outbox)", async () => {
    const store = createMemoryStore();
    await store.open();
    const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 0 } });
    const delivery = new Delivery([adapter], silentLogger());
    const options = { store, delivery, log: silentLogger(), taskId: "t1", address: { platform: "test", channel: "c", user: "u" }, key: "stream:answer#0" };
    const before = new StreamedMessage(options);
    before.show("half an ans");
    const [id] = await before.finish();
    // A new process: a new writer on the same data.
    const after = new StreamedMessage(options);
    expect(await after.finish("the whole answer")).toEqual([id]);
    expect(adapter.sent).toHaveLength(1);
    expect(adapter.edits.at(-1)).toMatchObject({ messageId: id, message: { text: "the whole answer" } });
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
