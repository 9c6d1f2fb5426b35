/**
 * Telegram adapter benchmarks, against the fake Bot API server (test/fakes/telegram):
 * 1. updates per second through the adapter into a trivial handler, beside a bare grammy bot
 *    on the same fake in the same run (target: adapter overhead under 25%); inbound only, and
 *    echo (each update answered with a sendMessage);
 * 2. edits per chat per second under a storm of progress updates, through the engine's
 *    coalescing with the default settings (never above one edit a second per chat).
 * Run: `node --import tsx bench/telegram.ts` (prints JSON, then a table).
 */
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { autoRetry } from "@grammyjs/auto-retry";
import { createThrottler } from "../adapters/telegram/throttle.ts";
import { Bot } from "grammy";
import { createTelegramAdapter } from "../adapters/telegram/index.ts";
import { createBot } from "../src/app.ts";
import { silentLogger } from "../src/logger.ts";
import type { InboundEvent } from "../src/model.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import { defineWorkflow } from "../src/tasks/workflow.ts";
import { startFakeTelegram, type FakeTelegram } from "../test/fakes/telegram/server.ts";
import { machine } from "./machine.ts";

/** The adapter's pacing lifted: this measures its own cost, not Telegram's limits. */
const UNPACED = { globalPerSecond: 1_000_000, perChatIntervalMs: 0, groupPerMinute: 1_000_000 };
const CHATS = 200;
/** Tolerance on arrival times at the fake (the bot paces sends, the fake timestamps arrivals). */
const JITTER_MS = 20;

type Variant = "bare grammy" | "bare grammy + plugins" | "adapter";

/** Queues `count` text messages across CHATS private chats. */
function queueMessages(fake: FakeTelegram, count: number): number {
  let last = 0;
  for (let i = 0; i < count; i++) last = Number(fake.userMessage({ chatId: 10_000 + (i % CHATS), text: `message ${i}` }).update_id);
  return last;
}

/**
 * Updates per second from start to the moment the fake saw `done`: the whole pipeline of
 * getUpdates, grammy's middleware, and (for the adapter) normalization into InboundEvents.
 */
async function run(variant: Variant, count: number, echo: boolean): Promise<number> {
  const fake = await startFakeTelegram();
  const last = queueMessages(fake, count);
  const done = echo ? () => fake.callsOf("sendMessage").length >= count : () => fake.confirmedOffset > last || fake.pendingUpdates === 0;
  let stop: () => Promise<void>;
  const started = performance.now();
  if (variant !== "adapter") {
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    if (variant === "bare grammy + plugins") {
      // The adapter's transformers with the same settings: what grammY's docs recommend.
      bot.api.config.use(autoRetry());
      bot.api.config.use(createThrottler(UNPACED));
    }
    if (echo) bot.on("message:text", (ctx) => ctx.reply(ctx.message.text));
    else bot.use(() => undefined);
    void bot.start({ drop_pending_updates: false });
    stop = () => bot.stop();
  } else {
    const adapter = createTelegramAdapter({ token: fake.token, apiRoot: fake.apiRoot, throttle: UNPACED, logger: silentLogger() });
    await adapter.start(async (event: InboundEvent) => {
      if (echo && event.kind === "message") await adapter.send(event.address, { kind: "reply", text: event.text });
    });
    stop = () => adapter.stop();
  }
  await fake.waitUntil(done, 120_000, "all updates");
  const elapsed = performance.now() - started;
  await stop();
  await fake.close();
  if (fake.violations.length > 0) throw new Error(`spec violations: ${fake.violations.slice(0, 3).join("; ")}`);
  return (count / elapsed) * 1000;
}

/** Alternates the variants `rounds` times and keeps each one's median, so drift hits all. */
async function compare(count: number, echo: boolean, variants: Variant[], rounds = 5): Promise<Record<string, number>> {
  const rates = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  for (const variant of variants) await run(variant, Math.min(count, 1000), echo); // warm-up: JIT, module loading
  for (let i = 0; i < rounds; i++) {
    for (const variant of i % 2 === 0 ? variants : [...variants].reverse()) rates.get(variant)!.push(await run(variant, count, echo));
  }
  const rate = (variant: Variant) => median(rates.get(variant)!);
  const result: Record<string, number> = { updates: count, bareGrammyPerSecond: Math.round(rate("bare grammy")), adapterPerSecond: Math.round(rate("adapter")), overheadPercent: percent(rate("bare grammy"), rate("adapter")) };
  if (rates.has("bare grammy + plugins")) {
    result.bareGrammyWithPluginsPerSecond = Math.round(rate("bare grammy + plugins"));
    result.overheadVsPluginsPercent = percent(rate("bare grammy + plugins"), rate("adapter"));
  }
  return result;
}

/** How much slower `adapter` is than `bare`, in % of the adapter's time per update. */
function percent(bare: number, adapter: number): number {
  return +((bare / adapter - 1) * 100).toFixed(1);
}

/**
 * Several chats each run a task that reports progress every millisecond; with the default
 * settings (editIntervalMs 1000, throttler 1 s per chat) the status message of each chat
 * should change at most once a second, and end on the final state.
 */
async function editStorm(chats: number, seconds: number): Promise<Record<string, unknown>> {
  const fake = await startFakeTelegram();
  let pushed = 0;
  const storm = defineWorkflow({
    name: "storm",
    async run(ctx) {
      const until = Date.now() + seconds * 1000;
      for (let i = 0; Date.now() < until; i++) {
        await ctx.progress((i / 10) % 100, `step ${i}`);
        pushed++;
        await sleep(1);
      }
      return { text: "storm over" };
    },
  });
  const adapter = createTelegramAdapter({ token: fake.token, apiRoot: fake.apiRoot, logger: silentLogger() });
  const bot = await createBot({ config: { routes: { default: { message: "storm" } } }, store: createMemoryStore(), adapters: [adapter], workflows: [storm], logger: silentLogger() });
  await bot.start();
  const chatIds = Array.from({ length: chats }, (_, i) => 20_000 + i);
  for (const chatId of chatIds) fake.userMessage({ chatId, text: "go" });
  await fake.waitUntil(() => chatIds.every((id) => fake.botMessages(id).some((m) => m.text === "storm over")), (seconds + 30) * 1000, "every storm to end");
  await bot.stop();
  await fake.close();
  const perChat = chatIds.map((chatId) => {
    const status = fake.botMessages(chatId).find((m) => m.text.includes("· storm"))!;
    const times = [
      fake.callsOf("sendMessage").find((c) => c.params.chat_id === chatId && String(c.params.text).includes("· storm"))!.at,
      ...fake.callsOf("editMessageText").filter((c) => c.params.chat_id === chatId && c.params.message_id === status.message_id).map((c) => c.at),
    ];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    return { edits: gaps.length, perSecond: gaps.length / ((times.at(-1)! - times[0]!) / 1000), minGapMs: Math.min(...gaps), final: fake.message(chatId, status.message_id)?.text.split("\n", 1)[0] };
  });
  const perSecond = Math.max(...perChat.map((c) => c.perSecond));
  const minGapMs = Math.min(...perChat.map((c) => c.minGapMs));
  return {
    chats,
    seconds,
    progressUpdatesPushed: pushed,
    editsPerChat: perChat.map((c) => c.edits),
    configuredEditsPerSecond: 1,
    editsPerChatPerSecond: +perSecond.toFixed(3),
    minGapMs,
    finalStates: [...new Set(perChat.map((c) => c.final))],
    // Arrival times at the fake jitter by a few ms around the 1,000 ms pacing.
    neverAboveRate: perSecond <= 1.005 && minGapMs >= 1000 - JITTER_MS,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runTelegramBench(): Promise<Record<string, unknown>> {
  return {
    machine: machine(),
    inbound: { ...(await compare(10_000, false, ["bare grammy", "adapter"], 7)), target: "overhead < 25%" },
    echo: { ...(await compare(1500, true, ["bare grammy", "bare grammy + plugins", "adapter"], 5)), target: "overhead < 25%" },
    editStorm: await editStorm(3, 5),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const results = await runTelegramBench();
  console.log(JSON.stringify(results, null, 2));
  const row = (name: string, r: Record<string, unknown>) => ({ benchmark: name, "bare grammy /s": r.bareGrammyPerSecond, "bare + plugins /s": r.bareGrammyWithPluginsPerSecond ?? "-", "adapter /s": r.adapterPerSecond, "overhead %": r.overheadPercent, "vs bare + plugins %": r.overheadVsPluginsPercent ?? "-" });
  console.table([row("updates in (trivial handler)", results.inbound as Record<string, unknown>), row("updates in + echo sendMessage", results.echo as Record<string, unknown>)]);
  const storm = results.editStorm as Record<string, unknown>;
  console.table([{ chats: storm.chats, "progress pushed": storm.progressUpdatesPushed, "edits/chat/s": storm.editsPerChatPerSecond, "min gap ms": storm.minGapMs, "≤ configured rate": storm.neverAboveRate }]);
}
