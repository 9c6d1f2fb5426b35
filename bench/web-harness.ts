/**
 * What the web benchmarks share (bench/web-http.ts, bench/web-sse.ts): a bot with the web
 * adapter on 127.0.0.1, port 0, an API token, the memory store (or lowdb, the default, in a
 * temp dir), and a trivial `echo` workflow.
 */
import { z } from "zod";
import { createWebAdapter } from "../adapters/web/index.ts";
import { createBot, type Bot } from "../src/app.ts";
import { silentLogger } from "../src/logger.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLowdbStore } from "../src/store/lowdb/index.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import { defineWorkflow } from "../src/tasks/workflow.ts";

export const USER = "bench";
export const TOKEN = "bench-token-0123456789abcdef";
/** Limits far above what a round submits: this measures the API's cost, not its limits. */
const UNLIMITED = { requestsPerMinute: 100_000_000, tasksPerMinute: 100_000_000 };

const echo = defineWorkflow({
  name: "echo",
  description: "returns its input (bench)",
  input: z.object({ text: z.string() }),
  async run(_ctx, input) {
    return { text: input.text };
  },
});

export interface WebHarness {
  bot: Bot;
  url: string;
  stop(): Promise<void>;
}

export type StoreKind = "memory" | "lowdb";

/** A started bot whose plain messages start `echo`, with the web adapter; `concurrency`: the runner's. */
export async function startBot(concurrency: number, storeKind: StoreKind = "memory"): Promise<WebHarness> {
  const dir = storeKind === "lowdb" ? await mkdtemp(join(tmpdir(), "chatflow-bench-web-")) : undefined;
  const web = createWebAdapter({ config: { port: 0, rateLimit: UNLIMITED }, auth: { tokens: new Map([[TOKEN, USER]]) }, logger: silentLogger() });
  const bot = await createBot({
    config: { tasks: { concurrency, startsPerUserPerMinute: 0 }, scheduler: { enabled: false }, routes: { default: { message: "echo", commands: {} } } },
    store: dir ? createLowdbStore({ dir }) : createMemoryStore(),
    adapters: [web],
    workflows: [echo],
    logger: silentLogger(),
    env: {},
  });
  await bot.start();
  return {
    bot,
    url: web.url!,
    async stop() {
      await bot.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
