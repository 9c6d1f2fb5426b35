/**
 * Discord adapter benchmarks, against the fake Discord (test/fakes/discord), in one run:
 * 1. slash command interactions per second through the adapter (deferred at once, then the
 *    engine-facing reply edits the original response), beside a bare discord.js bot that
 *    defers and edits the same way on the same fake (target: adapter overhead under 25%);
 * 2. a storm of progress updates in 5 channels through the engine with the default settings
 *    and the fake enforcing a per-channel edit limit: edits per message per second never above
 *    the configured rate, and zero 429s.
 * Run: `npm run bench -- discord` (prints JSON, and a summary on stderr).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { Client, Events, GatewayIntentBits } from "discord.js";
import { createDiscordAdapter } from "../adapters/discord/index.ts";
import { markdownToDiscord } from "../adapters/discord/render.ts";
import { createBot } from "../src/app.ts";
import { silentLogger } from "../src/logger.ts";
import type { InboundEvent } from "../src/model.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import { defineWorkflow } from "../src/tasks/workflow.ts";
import { startFakeDiscord } from "../test/fakes/discord/server.ts";
import { compareVariants, comparisonLines, measure, overheadFigures, type Rate, type Spread } from "./compare.ts";
import { machine, machineLine } from "./machine.ts";

type Variant = "bare discord.js" | "adapter";
const COMMAND = { name: "echo", description: "Echo", type: 1, options: [{ type: 3, name: "text", description: "Text", required: true }] };

/**
 * `count` slash commands, each deferred and answered by editing its original response:
 * the gateway dispatch, discord.js's interaction classes, (for the adapter, normalization,
 * rendering and the engine-facing send path) and two REST calls per command.
 */
async function run(variant: Variant, count: number): Promise<Rate> {
  const fake = await startFakeDiscord();
  let answered = 0;
  // One client setup for both: @discordjs/rest's global limit (50 requests a second, which
  // Discord does not apply to interaction callbacks) lifted, so each side's own cost shows.
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl, globalRequestsPerSecond: 1_000_000 }, allowedMentions: { parse: [] } });
  const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(fake.token);
  await ready;
  if (variant === "bare discord.js") {
    client.on("interactionCreate", async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      await i.editReply({ content: markdownToDiscord(i.options.getString("text") ?? ""), allowedMentions: { parse: [] } });
      answered++;
    });
    await client.application!.commands.set([COMMAND], fake.guild.id);
  } else {
    // The adapter on the same client (plugin mode: it registers its command beside none).
    const adapter = createDiscordAdapter({ client, guildId: fake.guild.id, logger: silentLogger() });
    await adapter.start(
      async (event: InboundEvent) => {
        if (event.kind !== "command") return;
        await adapter.send(event.address, { kind: "reply", text: event.args });
        answered++;
      },
      { commands: [{ name: "echo", description: "echo", usage: "/echo <text>", kind: "workflow" }] },
    );
  }
  const users = Array.from({ length: 50 }, (_, i) => fake.addUser(`user${i}`).id);
  const rate = await measure(
    count,
    () => {
      for (let i = 0; i < count; i++) fake.slashCommand({ name: "echo", user: users[i % users.length]!, options: { text: `message ${i}` } });
    },
    () => fake.waitUntil(() => answered >= count, 120_000, "every answer").then(() => undefined),
  );
  await client.destroy();
  await fake.close();
  if (fake.violations.length > 0) throw new Error(`violations: ${fake.violations.slice(0, 3).join("; ")}`);
  return rate;
}

/**
 * Five channels each run a task that reports progress every few milliseconds, with the default
 * settings (editIntervalMs 1000) and the fake allowing 5 edits per 5 s per channel: every
 * status message ends on its final state and no call draws a 429.
 */
async function progressStorm(channels: number, seconds: number): Promise<Record<string, unknown>> {
  const fake = await startFakeDiscord();
  fake.rateLimit("PATCH /webhooks/:app/:token/messages/:message", { limit: 5, perMs: 5000 });
  fake.rateLimit("PATCH /webhooks/:app/:token/messages/@original", { limit: 5, perMs: 5000 });
  let pushed = 0;
  const storm = defineWorkflow({
    name: "storm",
    async run(ctx) {
      const until = Date.now() + seconds * 1000;
      for (let i = 0; Date.now() < until; i++) {
        await ctx.progress(Math.min(99, Math.floor(i / 20)), `step ${i}`);
        pushed++;
        await sleep(5);
      }
      return { text: "storm over" };
    },
  });
  const adapter = createDiscordAdapter({ token: fake.token, apiUrl: fake.apiUrl, guildId: fake.guild.id, logger: silentLogger() });
  const bot = await createBot({ config: { routes: { default: { message: null, commands: { storm: "storm" } } } }, store: createMemoryStore(), adapters: [adapter], workflows: [storm], logger: silentLogger() });
  await bot.start();
  const ids = Array.from({ length: channels }, (_, i) => fake.addChannel(`storm-${i}`).id);
  const interactions = ids.map((channel) => fake.slashCommand({ name: "storm", user: fake.alice.id, channel }).interactionId);
  await fake.waitUntil(() => interactions.every((id) => (fake.originalOf(id)?.content ?? "").startsWith("**Done · storm**")), (seconds + 60) * 1000, "every storm to end");
  await bot.stop();
  await fake.close();
  const edits = interactions.map((id) => fake.originalOf(id)!.edits);
  // Gaps between two edits of one message (the response's token identifies it).
  const tokens = interactions.map((id) => fake.interaction(id)!.token);
  const times = tokens.map((token) => fake.calls.filter((c) => c.method === "PATCH" && c.params.token === token && c.status === 200).map((c) => c.at));
  const gaps = times.flatMap((t) => t.slice(1).map((at, i) => at - t[i]!));
  // Arrival times jitter where an edit waited in @discordjs/rest's bucket queue; the rate over
  // each message's span is what the pacing promises.
  const rates = times.map((t) => (t.length - 1) / ((t.at(-1)! - t[0]!) / 1000));
  return {
    channels,
    seconds,
    progressUpdatesPushed: pushed,
    editsPerMessage: edits,
    minGapMs: Math.min(...gaps),
    editsPerMessagePerSecond: +Math.max(...rates).toFixed(3),
    configuredEditIntervalMs: 1000,
    // Arrival times at the fake jitter by a few ms around the pacing.
    neverAboveRate: Math.max(...rates) <= 1.01,
    rateLimited429s: fake.rateLimitedCalls.length,
    everyMessageEndedDone: true,
  };
}

/** Commands per round, measured rounds and warm-up rounds: about a minute on 2 cores. */
const ECHO = { commands: 500, rounds: 11, warmup: 2 };

export async function runDiscordBench(): Promise<Record<string, unknown>> {
  const r = await compareVariants<Variant>({ variants: ["bare discord.js", "adapter"], bare: "bare discord.js", adapter: "adapter", rounds: ECHO.rounds, warmup: ECHO.warmup, run: (variant) => run(variant, ECHO.commands) });
  const echo = {
    commandsPerRound: ECHO.commands,
    rounds: ECHO.rounds,
    warmupRounds: ECHO.warmup,
    bareDiscordJsPerSecond: r.medians["bare discord.js"],
    adapterPerSecond: r.medians.adapter,
    ...overheadFigures(r),
    target: "overhead < 25%",
  };
  const results = { machine: machine(), echo, progressStorm: await progressStorm(5, 15) };
  console.error(summary(results));
  return results;
}

function summary(results: { machine: Record<string, unknown>; echo: Record<string, unknown>; progressStorm: Record<string, unknown> }): string {
  const m = results.machine;
  const e = results.echo;
  const s = results.progressStorm;
  return [
    machineLine("discord", m),
    `slash commands (defer + edit): ${e.commandsPerRound} × ${e.rounds} interleaved rounds (+${e.warmupRounds} warm-up), commands/s median (spread):`,
    ...comparisonLines(e),
    `progress storm: ${s.channels} channels × ${s.seconds} s, ${s.progressUpdatesPushed} progress updates → edits per message ${JSON.stringify(s.editsPerMessage)}, at most ${s.editsPerMessagePerSecond}/s per message (configured 1), min gap between arrivals ${s.minGapMs} ms, 429s: ${s.rateLimited429s}`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runDiscordBench(), null, 2));
}
