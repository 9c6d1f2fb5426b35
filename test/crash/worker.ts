/**
 * Child process of the crash test: a bot on a lowdb store with the IPC adapter and a
 * workflow whose steps log to a side file (appended synchronously, so the log survives SIGKILL).
 */
import path from "node:path";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import { countedWorkflow } from "./counted-workflow.ts";
import { createIpcAdapter } from "./ipc-adapter.ts";

const dir = process.env.CRASH_DIR!;
const stepsLog = path.join(dir, "steps.log");

const crashy = countedWorkflow({ name: "crashy", stepsLog, delayMs: { min: 30, spread: 60 } });

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
