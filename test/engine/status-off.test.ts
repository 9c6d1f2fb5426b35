import { afterEach, describe, expect, it } from "vitest";
import { createBot, type Bot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { createRecordingAdapter } from "../../src/testing/recording-adapter.ts";

/** A channel that shows progress from the event feed (the web) gets no status message. */
const bots: Bot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.stop();
});

describe("statusMessages: false", () => {
  it("runs a task to its end without posting or editing a status message; questions and the result still come", async () => {
    const adapter = createRecordingAdapter({ capabilities: { statusMessages: false } });
    const bot = await createBot({ config: { workflows: { demo: { stepDelayMs: 1 } } }, store: createMemoryStore(), adapters: [adapter], logger: silentLogger(), env: {} });
    bots.push(bot);
    await bot.start();
    const address = { platform: "test", channel: "c1", user: "alice", direct: true };
    await adapter.deliver({ kind: "message", id: "e1", address, text: "a short summary of owls" });
    const review = await adapter.waitFor((m) => m.kind === "review");
    await adapter.deliver({ kind: "action", id: "e2", address, actionId: review.message.actions!.find((a) => a.role === "approve")!.id });
    await adapter.waitFor((m) => m.kind === "result");
    await bot.idle();
    expect(adapter.sent.filter((s) => s.message.kind === "status")).toEqual([]);
    expect(adapter.edits.filter((e) => e.message.kind === "status")).toEqual([]);
    const task = (await bot.store.listTasks({}, { limit: 1 })).items[0]!;
    expect(task.status).toBe("completed");
    expect((await bot.events.read({ taskId: task.id })).map((e) => e.type)).toContain("progress");
  });
});
