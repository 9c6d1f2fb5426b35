/**
 * Slack adapter benchmarks, against the fake Slack (test/fakes/slack), in one run:
 * 1. events per second through the adapter, each answered with a chat.postMessage, beside a
 *    bare Bolt app answering the same events with `say` on the same fake (target: adapter
 *    overhead under 25%);
 * 2. a storm of progress updates in 5 channels through the engine with the default settings
 *    and the fake enforcing chat.update's Tier 3 (50 a minute): updates per message per second
 *    never above the configured rate, and zero 429s.
 * Run: `npm run bench -- slack` (prints JSON, and a summary on stderr).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { App } from "@slack/bolt";
import { createSlackAdapter } from "../adapters/slack/index.ts";
import { escapeMrkdwn } from "../adapters/slack/mrkdwn.ts";
import { createBot } from "../src/app.ts";
import { silentLogger } from "../src/logger.ts";
import type { InboundEvent } from "../src/model.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import { defineWorkflow } from "../src/tasks/workflow.ts";
import { startFakeSlack, type FakeSlack } from "../test/fakes/slack/server.ts";
import { answeredCalls, compareVariants, comparisonLines, measure, overheadFigures, type Rate, type Spread } from "./compare.ts";
import { machine, machineLine } from "./machine.ts";

type Variant = "bare bolt" | "adapter";
/** The adapter's pacing lifted: this measures its own cost, not Slack's limits. */
const UNPACED = { updatesPerMinute: 1_000_000, postIntervalMs: 0 };
/**
 * Events spread over this many DMs: the adapter keeps each conversation's posts in order (one
 * at a time per channel) where a bare `say` does not, so a few events per channel measure the
 * adapter's own cost rather than that ordering.
 */
const CHANNELS = 500;
const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => "error" as never, setName() {} };


/**
 * `count` direct messages across CHANNELS DMs, each answered with a post: Socket Mode delivery,
 * Bolt's listener (and for the adapter, normalization into InboundEvents, Block Kit rendering,
 * the engine-facing send path), and the Web API call.
 */
async function run(variant: Variant, count: number): Promise<Rate> {
  const fake = await startFakeSlack();
  const posted = answeredCalls(fake.calls, "chat.postMessage");
  let stop: () => Promise<unknown>;
  if (variant === "bare bolt") {
    const app = new App({ token: fake.botToken, appToken: fake.appToken, socketMode: true, clientOptions: { slackApiUrl: fake.apiUrl }, logger: quiet });
    // The same payload the adapter posts (an escaped mrkdwn section, its fallback text, no
    // unfurling), so the fake does the same work for both and the difference is the adapter's.
    app.message(async ({ message, say }) => {
      const text = escapeMrkdwn((message as { text?: string }).text ?? "");
      await say({ text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }], unfurl_links: false, unfurl_media: false });
    });
    await app.start();
    stop = () => app.stop();
  } else {
    const adapter = createSlackAdapter({ botToken: fake.botToken, appToken: fake.appToken, apiUrl: fake.apiUrl, pacing: UNPACED, logger: silentLogger() });
    await adapter.start(async (event: InboundEvent) => {
      if (event.kind === "message") await adapter.send(event.address, { kind: "reply", text: event.text });
    });
    stop = () => adapter.stop();
  }
  await fake.waitForConnection();
  const rate = await measure(
    count,
    () => {
      for (let i = 0; i < count; i++) fake.userMessage({ channel: `D0USER${i % CHANNELS}`, user: `U0USER${i % CHANNELS}`, text: `message ${i}` });
    },
    () => fake.waitUntil(() => posted() >= count, 120_000, "every answer").then(() => undefined),
  );
  await stop();
  await fake.close();
  if (fake.violations.length > 0) throw new Error(`violations: ${fake.violations.slice(0, 3).join("; ")}`);
  return rate;
}

/**
 * Five channels each run a task that reports progress every few milliseconds, with the default
 * settings (editIntervalMs 1200, 50 chat.update a minute across the workspace) and the fake
 * answering 429 over Tier 3: every status message ends on its final state, no call draws a 429,
 * and no message is updated faster than the configured rate.
 */
async function progressStorm(channels: number, seconds: number): Promise<Record<string, unknown>> {
  const fake = await startFakeSlack();
  fake.rateLimit("chat.update", { perMinute: 50 });
  let pushed = 0;
  const storm = defineWorkflow({
    name: "storm",
    async run(ctx) {
      const until = Date.now() + seconds * 1000;
      for (let i = 0; Date.now() < until; i++) {
        await ctx.progress(Math.min(99, Math.floor((i / 50) % 100)), `step ${i}`);
        pushed++;
        await sleep(5);
      }
      return { text: "storm over" };
    },
  });
  const adapter = createSlackAdapter({ botToken: fake.botToken, appToken: fake.appToken, apiUrl: fake.apiUrl, logger: silentLogger() });
  const bot = await createBot({ config: { routes: { default: { message: "storm" } } }, store: createMemoryStore(), adapters: [adapter], workflows: [storm], logger: silentLogger() });
  await bot.start();
  await fake.waitForConnection();
  const names = Array.from({ length: channels }, (_, i) => `D0STORM${i}`);
  for (const [i, channel] of names.entries()) fake.userMessage({ channel, user: `U0STORM${i}`, text: "go" });
  const text = (m: { blocks?: unknown[]; text: string }) => JSON.stringify(m.blocks ?? m.text);
  await fake.waitUntil(() => names.every((c) => fake.botMessages(c).some((m) => text(m).includes("storm over")) && fake.botMessages(c).some((m) => text(m).includes("Done · storm"))), (seconds + 120) * 1000, "every storm to end");
  await bot.stop();
  await fake.close();
  const updates = fake.callsOf("chat.update");
  const perMessage = names.map((channel) => {
    const times = updates.filter((c) => c.params.channel === channel).map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    return { updates: times.length, minGapMs: gaps.length > 0 ? Math.min(...gaps) : null };
  });
  const span = (Math.max(...updates.map((c) => c.at)) - Math.min(...updates.map((c) => c.at))) / 60_000;
  const gaps = perMessage.map((m) => m.minGapMs).filter((g): g is number => g !== null);
  return {
    channels,
    seconds,
    progressUpdatesPushed: pushed,
    chatUpdateCalls: updates.length,
    // n calls span n - 1 intervals.
    workspaceUpdatesPerMinute: +((updates.length - 1) / Math.max(span, 1 / 60)).toFixed(1),
    configuredUpdatesPerMinute: 50,
    configuredEditIntervalMs: 1200,
    updatesPerMessage: perMessage.map((m) => m.updates),
    minGapPerMessageMs: Math.min(...gaps),
    rateLimited429s: fake.rateLimitedCalls.length,
    everyMessageEndedDone: true,
  };
}

/** Events per round, measured rounds and warm-up rounds: about a minute on 2 cores. */
const ECHO = { events: 2000, rounds: 13, warmup: 2 };

export async function runSlackBench(): Promise<Record<string, unknown>> {
  const r = await compareVariants<Variant>({ variants: ["bare bolt", "adapter"], bare: "bare bolt", adapter: "adapter", rounds: ECHO.rounds, warmup: ECHO.warmup, run: (variant) => run(variant, ECHO.events) });
  const echo = {
    eventsPerRound: ECHO.events,
    rounds: ECHO.rounds,
    warmupRounds: ECHO.warmup,
    bareBoltPerSecond: r.medians["bare bolt"],
    adapterPerSecond: r.medians.adapter,
    ...overheadFigures(r),
    target: "overhead < 25%",
  };
  const results = { machine: machine(), echo, progressStorm: await progressStorm(5, 20) };
  console.error(summary(results));
  return results;
}

function summary(results: { machine: Record<string, unknown>; echo: Record<string, unknown>; progressStorm: Record<string, unknown> }): string {
  const m = results.machine;
  const e = results.echo;
  const s = results.progressStorm;
  return [
    machineLine("slack", m),
    `echo (a post per event): ${e.eventsPerRound} events × ${e.rounds} interleaved rounds (+${e.warmupRounds} warm-up), events/s median (spread):`,
    ...comparisonLines(e),
    `progress storm: ${s.channels} channels × ${s.seconds} s, ${s.progressUpdatesPushed} progress updates → ${s.chatUpdateCalls} chat.update (${s.workspaceUpdatesPerMinute}/min, configured 50), min gap per message ${s.minGapPerMessageMs} ms (configured 1200), 429s: ${s.rateLimited429s}`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runSlackBench(), null, 2));
}
