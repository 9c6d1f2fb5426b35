/**
 * Child process of the assistant crash test: chatflow on a lowdb store (CRASH_DIR) with the IPC
 * adapter, the assistant configured against the test's fake LLM (LLM_BASE_URL, LLM_API_KEY), so
 * plain messages go to it. The test may ask what the store holds (`probe`): the answer is only
 * sent once all of it is on disk, so a SIGKILL right after it loses none of it.
 * CRASH_AGENT=1: plain messages go to an agent (defineAgent, on the configured model) with one
 * tool whose every execution appends a line to CRASH_DIR/lookups.log (synchronously: a kill
 * can't lose it), so the test counts how often it ran.
 */
import { appendFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { defineAgent, tool } from "../../src/index.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createIpcAdapter } from "./ipc-adapter.ts";

const agent = defineAgent({
  name: "orders",
  tools: {
    lookup_order: tool({
      description: "Finds an order by its number",
      inputSchema: z.object({ order: z.string() }),
      execute: async ({ order }) => {
        appendFileSync(path.join(process.env.CRASH_DIR!, "lookups.log"), `${order} ${process.pid}\n`);
        return { order, status: "shipped" };
      },
    }),
  },
});

const bot = await createBot({
  config: {
    ...(process.env.CRASH_AGENT ? { routes: { default: { message: "orders" } } } : {}),
    store: { dir: process.env.CRASH_DIR! },
    llm: { baseURL: process.env.LLM_BASE_URL!, model: "fake-model", systemPrompt: "Be brief." },
    tasks: { retryBaseMs: 5, stepRetries: 0 },
    log: { level: "silent" },
  },
  adapters: [createIpcAdapter()],
  workflows: process.env.CRASH_AGENT ? [agent] : [],
  logger: silentLogger(),
});
await bot.start();

/** One task as the probe reports it: its status and its outbox (message ids by key). */
export interface ProbedTask {
  id: string;
  status: string;
  outbox: Record<string, { messageId: string; pending?: boolean }>;
}

process.on("message", (raw) => {
  const message = raw as { type?: string; id?: number };
  if (message.type !== "probe") return;
  void (async () => {
    const tasks: ProbedTask[] = [];
    for (const task of (await bot.store.listTasks({}, { limit: 100 })).items) {
      const outbox = Object.fromEntries([...(await bot.store.getOutbox(task.id))].map(([key, record]) => [key, { messageId: record.messageId, ...(record.pending ? { pending: true } : {}) }]));
      tasks.push({ id: task.id, status: task.status, outbox });
    }
    // A write after the reads: the store writes its log in order, so once this one is on disk,
    // so is everything read above.
    await bot.store.claimEvent(`probe:${message.id}`, Date.now() + 60_000);
    process.send!({ type: "probe", id: message.id, tasks });
  })();
});

process.send!({ type: "ready" });
process.on("SIGTERM", () => {
  void bot.stop().then(() => process.exit(0));
});
