import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createBot } from "../../src/app.ts";
import { destination, pino } from "pino";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createMemoryStore } from "../../src/store/memory.ts";
import { createRecordingAdapter } from "../../src/testing/recording-adapter.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { eventually } from "../helpers.ts";

/** A cancel is not a failure: nothing is logged as a failed step, and no stack trace. */
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A step that works until its signal aborts, as a fetch, a model call or a timer does. */
const slow = defineWorkflow({
  name: "slow",
  async run(ctx) {
    // As node:timers/promises does: an AbortError of its own, not the signal's reason.
    await ctx.step("work", (signal) => sleep(60_000, undefined, { signal }));
    return { text: "never" };
  },
});

describe("cancelling a task", () => {
  it("logs no step failure and no warning with a stack trace", async () => {
    // A real logger writing to a file: the runner hands steps a child of it.
    const file = path.join(mkdtempSync(path.join(tmpdir(), "chatflow-log-")), "chatflow.log");
    const logger = pino({ level: "warn" }, destination({ dest: file, sync: true }));
    const adapter = createRecordingAdapter();
    const bot = await createBot({ config: { routes: { default: { message: "slow" } }, tasks: { retryBaseMs: 1 } }, store: createMemoryStore(), adapters: [adapter], workflows: [slow], logger, env: {} });
    await bot.start();
    stops.push(() => bot.stop());
    const address = { platform: "test", channel: "c1", user: "alice" };
    await adapter.deliver({ kind: "message", id: "e1", address, text: "go" });
    await eventually(async () => (await bot.store.listTasks()).items[0]?.status === "running", 5000, "the task running");
    await adapter.deliver({ kind: "command", id: "e2", address, name: "cancel", args: "" });
    await eventually(async () => (await bot.store.listTasks()).items[0]?.status === "cancelled", 5000, "the task cancelled");
    await bot.idle();
    await bot.stop();
    stops.length = 0;
    const lines = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as { msg: string }) : [];
    expect(lines.map((line) => line.msg)).toEqual([]);
  });
});
