import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeTelegram, type FakeTelegram } from "../fakes/telegram/server.ts";

/**
 * `chatflow start --adapter …` picks adapters without a configuration file: run from an empty
 * directory on the embedded defaults, as a new user would.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const tsx = pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href;
const cli = path.join(root, "src/cli.ts");
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function emptyDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "chatflow-cli-adapter-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ["--import", tsx, cli, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", CHATFLOW_ADAPTERS: "", CHATFLOW_CONFIG: "", TELEGRAM_BOT_TOKEN: "", CHATFLOW_WEB_PORT: "0", ...env } });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  return { child, exited, output: () => out };
}

describe("chatflow start --adapter", () => {
  it("refuses an unknown adapter, from the flag or from CHATFLOW_ADAPTERS, listing the known ones", async () => {
    const dir = await emptyDir();
    const flag = run(["start", "--adapter", "telegram,slak"], dir);
    expect(await flag.exited).toBe(1);
    expect(flag.output()).toContain('chatflow: Unknown adapter "slak" (from --adapter). Known adapters: console, telegram, slack, discord, web.');
    const env = run(["start"], dir, { CHATFLOW_ADAPTERS: "nope" });
    expect(await env.exited).toBe(1);
    expect(env.output()).toContain('Unknown adapter "nope" (from CHATFLOW_ADAPTERS)');
  });

  it("--adapter telegram without a token names TELEGRAM_BOT_TOKEN", async () => {
    const dir = await emptyDir();
    const started = run(["start", "--adapter", "telegram"], dir);
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/^chatflow: TELEGRAM_BOT_TOKEN is not set/m);
  });

  it("TELEGRAM_BOT_TOKEN=… chatflow start --adapter telegram runs a Telegram bot with no file to write", async () => {
    const fake: FakeTelegram = await startFakeTelegram();
    cleanups.push(() => fake.close());
    const dir = await emptyDir();
    const bot = run(["start", "--adapter", "telegram"], dir, { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot });
    // Polling, with the engine's commands in the menu.
    await fake.waitUntil(() => fake.callsOf("getUpdates").length > 0, 20_000, "the bot to poll");
    expect(fake.commands.map((c) => c.command)).toContain("demo");
    fake.userMessage({ chatId: 1001, text: "/help" });
    await fake.waitUntil(() => fake.botMessages(1001).find((m) => m.text.startsWith("Send a message to start a task")), 20_000, "the help");
    bot.child.kill("SIGTERM");
    expect(await bot.exited).toBe(143);
    // Only Telegram ran: no console chat on stdout; the token is in no log line.
    expect(bot.output()).not.toContain("bot>");
    const log = await readFile(path.join(dir, "data/chatflow.log"), "utf8");
    expect(log).toContain("telegram adapter started");
    expect(log).not.toContain(fake.token.split(":")[1]!);
    expect(fake.violations).toEqual([]);
  }, 60_000);
});
