/**
 * Child process of the multi-instance tests: one chatflow process on the PostgreSQL store at
 * MULTI_DATABASE_URL, with the IPC adapter (the test plays the one chat platform every
 * instance posts to) and the web adapter (its HTTP API on a free port). Its workflow's steps
 * log to a side file, appended synchronously with the instance's id, so the test can tell
 * whether a journaled step ever ran twice, and where.
 */
import path from "node:path";
import { createDiscordAdapter } from "../../adapters/discord/index.ts";
import { createTelegramAdapter } from "../../adapters/telegram/index.ts";
import { createWebAdapter } from "../../adapters/web/index.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { countedWorkflow } from "../crash/counted-workflow.ts";
import { createIpcAdapter } from "../crash/ipc-adapter.ts";

const dir = process.env.MULTI_DIR!;
const instance = process.env.CHATFLOW_INSTANCE_ID!;
const stepsLog = path.join(dir, "steps.log");

const counted = countedWorkflow({ name: "counted", stepsLog, delayMs: { min: 20, spread: 40 }, instance });

const env = { ...process.env };
const web = createWebAdapter({ config: { port: 0 }, env });
const bot = await createBot({
  config: {
    store: { driver: "postgres" },
    tasks: { busy: "queue", concurrency: 8, leaseSeconds: Number(process.env.MULTI_LEASE_SECONDS ?? 2), retryBaseMs: 5 },
    routes: { default: { message: "counted", commands: { counted: "counted" } } },
    reviewers: ["web:watcher"],
    // MULTI_SCHEDULE: a one-second schedule, from the config file as an operator would write it, on every instance.
    ...(process.env.MULTI_SCHEDULE
      ? { scheduler: { maxCatchUp: 100, schedules: [{ id: "tick", cron: "* * * * * *", target: { platform: "ipc", channel: "sched" }, text: "tick", missedPolicy: "all" as const }] } }
      : {}),
  },
  adapters: [
    createIpcAdapter(),
    web,
    // MULTI_TELEGRAM_API: Telegram by long polling against the fake, each instance under its own path so the fake tells pollers apart.
    ...(process.env.MULTI_TELEGRAM_API
      ? [createTelegramAdapter({ token: process.env.MULTI_TELEGRAM_TOKEN!, apiRoot: `${process.env.MULTI_TELEGRAM_API}/${instance}`, editIntervalMs: 50, logger: silentLogger() })]
      : []),
    // MULTI_DISCORD_API: Discord against the fake (its gateway held by one instance at a time), /counted in the fake's guild.
    ...(process.env.MULTI_DISCORD_API
      ? [createDiscordAdapter({ token: process.env.MULTI_DISCORD_TOKEN!, apiUrl: process.env.MULTI_DISCORD_API, guildId: process.env.MULTI_DISCORD_GUILD!, editIntervalMs: 50, logger: silentLogger() })]
      : []),
  ],
  workflows: [counted],
  logger: silentLogger(),
  env,
});
await bot.start();
process.send!({ type: "ready", url: web.url, instance });
process.on("SIGTERM", () => {
  void bot.stop().then(() => process.exit(0));
});
