/**
 * Child process of the crash test: a bot on a lowdb store with the IPC adapter and a
 * workflow whose steps log to a side file (appended synchronously, so the log survives SIGKILL).
 */
import { appendFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { createIpcAdapter } from "./ipc-adapter.ts";

const dir = process.env.CRASH_DIR!;
const stepsLog = path.join(dir, "steps.log");

const crashy = defineWorkflow({
  name: "crashy",
  async run(ctx, input: { text: string }) {
    const n = Number(input.text.split(" ")[1]);
    const step = (id: string) =>
      ctx.step(id, async (signal) => {
        const key = `${ctx.taskId} step:${id}#0`;
        appendFileSync(stepsLog, `start ${key}\n`);
        await sleep(30 + Math.floor(Math.random() * 60), undefined, { signal });
        const nonce = Math.random().toString(36).slice(2);
        appendFileSync(stepsLog, `done ${key} ${nonce}\n`);
        return nonce;
      });
    await ctx.progress(10, "one");
    await step("one");
    const choice = n % 2 === 0 ? await ctx.ask("Pick one", { choices: ["x", "y"] }) : "none";
    await ctx.progress(50, "two");
    await step("two");
    const verdict = n % 3 === 0 ? await ctx.review("Fine?", { data: `draft ${n}` }) : { approved: true };
    await ctx.progress(80, "three");
    await step("three");
    return { text: `result ${n} ${choice} ${verdict.approved ? "approved" : "rejected"}` };
  },
});

const bot = await createBot({
  config: { tasks: { concurrency: 5, leaseSeconds: 2, retryBaseMs: 5 }, routes: { default: { message: "crashy" } } },
  // Small compaction threshold: kills also land in the middle of snapshot writes.
  store: createLowdbStore({ dir, compactAfterBytes: 32 * 1024, logger: { warn: () => {} } }),
  adapters: [createIpcAdapter()],
  workflows: [crashy],
  logger: silentLogger(),
});
await bot.start();
process.send!({ type: "ready" });
process.on("SIGTERM", () => {
  void bot.stop().then(() => process.exit(0));
});
