import { Client, GatewayIntentBits, Events } from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { createDiscordAdapter, fromConfig } from "../../adapters/discord/index.ts";
import { createBot } from "../../src/app.ts";
import { AuthenticationError, ConfigError, PermissionError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { ProcessErrors } from "../fakes/discord/process-errors.ts";
import { startFakeDiscord } from "../fakes/discord/server.ts";
import { discordAdapterFor, shown, startDiscordBot } from "./discord-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

const cleanup = cleanupList();
afterEach(() => cleanup.run());
const logger = silentLogger();

describe("discord adapter: configuration and start", () => {
  it("a missing token names DISCORD_BOT_TOKEN; a malformed one is not echoed; a token in the file is refused", () => {
    const message = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error("expected a ConfigError");
    };
    expect(message(() => fromConfig({ enabled: true }, {}, { logger }))).toMatch(/^DISCORD_BOT_TOKEN is not set/);
    const malformed = message(() => fromConfig({}, { DISCORD_BOT_TOKEN: "not-a-token-secret" }, { logger }));
    expect(malformed).toContain("DISCORD_BOT_TOKEN");
    expect(malformed).not.toContain("not-a-token-secret");
    expect(message(() => fromConfig({ token: "x" }, {}, { logger }))).toMatch(/adapters\.discord\.token: secrets never go in the configuration file/);
    expect(message(() => fromConfig({ guildId: "abc" }, {}, { logger }))).toMatch(/adapters\.discord\.guildId/);
  });

  it("a token Discord rejects fails start() with AuthenticationError naming DISCORD_BOT_TOKEN, without the token", async () => {
    const fake = await startFakeDiscord();
    cleanup.add(() => fake.close());
    const wrong = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GwrOng.wrongwrongwrongwrongwrongwrong12";
    const adapter = discordAdapterFor(fake, { token: wrong });
    const failure = await adapter.start(async () => undefined).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthenticationError);
    expect((failure as Error).message).toContain("DISCORD_BOT_TOKEN");
    expect((failure as Error).message).not.toContain(wrong);
  });
});

describe("discord: scheduled posts", () => {
  it("posts on schedule to the channel with a nonce, and pauses the schedule on Missing Access", async () => {
    const h = await startDiscordBot({ config: { scheduler: { maxFailures: 2 } } });
    cleanup.add(() => h.stop());
    const { fake } = h;
    const add = fake.slashCommand({ name: "schedule", subcommand: "add", user: fake.alice.id, options: { cron: "* * * * * *", post: "Stand-up @everyone" } });
    await fake.waitUntil(() => shown(fake.originalOf(add.interactionId)).startsWith("Scheduled "), 5000, "the confirmation");
    // Discord markdown escapes an id's `_` or `-`: read it as the person sees it.
    const id = /^Scheduled (\S+)/.exec(shown(fake.originalOf(add.interactionId)))![1]!.replace(/\\(.)/g, "$1");
    const post = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "Stand-up @everyone"), 5000, "the scheduled post");
    expect(post.nonce).toEqual(expect.any(String));
    fake.missingAccess.add(fake.channel.id);
    const deadline = Date.now() + 8000;
    let schedule = await h.bot.store.getSchedule(id);
    while (schedule?.enabled && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      schedule = await h.bot.store.getSchedule(id);
    }
    expect(schedule).toMatchObject({ enabled: false, failures: 2 });
    expect(schedule?.pausedReason).toMatch(/Missing Access|50001/);
    // Discord's own answer stays reachable as the cause, with no token in it.
    const refused = await h.adapter.send({ platform: "discord", channel: fake.channel.id, user: "scheduler" }, { kind: "notice", text: "hi" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionError);
    expect((refused as PermissionError).cause).toMatchObject({ code: 50001, status: 403 });
    expect(JSON.stringify((refused as PermissionError).cause)).not.toContain(fake.token);
    expect(fake.violations).toEqual([]);
  });
});

describe("discord adapter as a plugin in an existing client", () => {
  it("both answer: their /ping, chatflow's /demo; their command is kept when chatflow registers its own", async () => {
    const fake = await startFakeDiscord();
    cleanup.add(() => fake.close());
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
    client.on("interactionCreate", async (i) => {
      if (i.isChatInputCommand() && i.commandName === "ping") await i.reply("pong");
    });
    const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
    await client.login(fake.token);
    await ready;
    cleanup.add(() => client.destroy());
    await client.application!.commands.set([{ name: "ping", description: "Ping" }], fake.guild.id);
    const discord = createDiscordAdapter({ client, guildId: fake.guild.id, editIntervalMs: 50, logger });
    const chatflow = await createBot({ config: { workflows: { demo: { stepDelayMs: 5 } } }, store: createMemoryStore(), adapters: [discord], logger });
    await chatflow.start();
    cleanup.add(() => chatflow.stop());
    const names = (fake.commands.guilds.get(fake.guild.id) ?? []).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["ping", "demo", "help"]));

    const ping = fake.slashCommand({ name: "ping", user: fake.alice.id });
    await fake.waitUntil(() => fake.originalOf(ping.interactionId)?.content === "pong", 5000, "their /ping");
    const demo = fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "tell me about owls" } });
    await fake.waitUntil(() => /· demo\*\*/.test(shown(fake.originalOf(demo.interactionId))), 5000, "chatflow's status");
    await fake.waitUntil(() => fake.messages(fake.channel.id).some((m) => m.content === "Which kind of answer do you want?"), 5000, "chatflow's question");
    // Stopping chatflow leaves their client logged in and answering.
    await chatflow.stop();
    expect(client.isReady()).toBe(true);
    const again = fake.slashCommand({ name: "ping", user: fake.alice.id });
    await fake.waitUntil(() => fake.originalOf(again.interactionId)?.content === "pong", 5000, "their /ping after chatflow stopped");
    expect(fake.violations).toEqual([]);
  });
});

describe("discord adapter: recall", () => {
  it("finds a post again by the nonce of its key; a repeated post with the same key is the same message", async () => {
    const h = await startDiscordBot();
    cleanup.add(() => h.stop());
    const { fake } = h;
    const where = { platform: "discord", channel: fake.channel.id, user: "scheduler" };
    const sent = await h.adapter.send(where, { kind: "notice", text: "Stand-up in 10 minutes", key: "sched:standup:1" });
    expect(await h.adapter.recall!(where, "sched:standup:1")).toEqual({ id: sent.id });
    expect(await h.adapter.recall!(where, "sched:standup:2")).toBeUndefined();
    // Posting again with the same key (a retry after a crash) returns the first message (enforce_nonce).
    const again = await h.adapter.send(where, { kind: "notice", text: "Stand-up in 10 minutes", key: "sched:standup:1" });
    expect(again.id).toBe(sent.id);
    expect(fake.messages(fake.channel.id).filter((m) => m.content === "Stand-up in 10 minutes")).toHaveLength(1);
  });
});

describe("discord adapter: faults", () => {
  it("a 429 storm and a 5xx on posts: @discordjs/rest waits and retries, every message arrives once, in order", async () => {
    const h = await startDiscordBot();
    cleanup.add(() => h.stop());
    const { fake } = h;
    const where = { platform: "discord", channel: fake.channel.id, user: fake.alice.id };
    fake.fail({ route: "POST /channels/:channel/messages", kind: "ratelimited", retryAfter: 0.3, times: 3 });
    fake.fail({ route: "POST /channels/:channel/messages", kind: "server_error", status: 502, times: 1 });
    for (const n of [1, 2, 3]) await h.adapter.send(where, { kind: "notice", text: `message ${n}` });
    expect(fake.messages(fake.channel.id).map((m) => m.content)).toEqual(["message 1", "message 2", "message 3"]);
    expect(fake.violations).toEqual([]);
  }, 30_000);

  it("a dropped gateway resumes; malformed interactions do not stop the bot", async () => {
    const processErrors = new ProcessErrors().install();
    cleanup.add(async () => processErrors.uninstall());
    const h = await startDiscordBot();
    cleanup.add(() => h.stop());
    const { fake } = h;
    fake.dropGateway();
    await fake.waitForGateway({ resumes: 1, timeoutMs: 15_000 });
    // discord.js throws inside its own gateway handler on this (an unhandled rejection the CLI logs).
    fake.dispatch("INTERACTION_CREATE", { id: "1", type: 3, token: "x" });
    await processErrors.take((error) => error instanceof TypeError);
    const status = fake.slashCommand({ name: "status", user: fake.alice.id });
    await fake.waitUntil(() => shown(fake.originalOf(status.interactionId)).startsWith("No task is running"), 10_000, "the /status answer after the resume");
  }, 30_000);
});
