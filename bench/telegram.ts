/**
 * Telegram adapter benchmarks, against the fake Bot API server (test/fakes/telegram):
 * 1. updates per second through the adapter into a trivial handler, beside a bare grammy bot
 *    on the same fake in the same run (target: adapter overhead under 25%); inbound only, and
 *    echo (each update answered with a sendMessage of the same shape: HTML parse mode, link
 *    previews off);
 * 2. edits per chat per second under a storm of progress updates, through the engine's
 *    coalescing with the default settings (never above one edit a second per chat).
 *
 * The rates swing with the machine (other processes, CPU frequency, GC), so each comparison
 * runs the variants in interleaved rounds (bare, adapter, bare, adapter…, the order rotated
 * every round) after warm-up rounds that are discarded, collects garbage between rounds so one
 * variant's garbage is not collected on the next one's clock, and reports each variant's
 * median with its spread (IQR and min–max), the overhead from the medians (the target's
 * figure), the overhead of each round's adjacent pair with its spread, and the overhead by CPU
 * time (updates per second of this process's CPU time: steadier on a busy machine, since time
 * spent waiting for a core is not counted). The clock of a round starts once the bot is
 * started (getMe, setMyCommands, deleteWebhook are not counted) and stops when the fake has
 * seen the last update confirmed (inbound) or the last sendMessage (echo).
 * Run: `npm run bench -- telegram` (or `node --expose-gc --import tsx bench/telegram.ts`);
 * JSON on stdout, a summary with the machine on stderr. About 1-2 minutes on 2 cores.
 */
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { autoRetry } from "@grammyjs/auto-retry";
import { Bot } from "grammy";
import { createTelegramAdapter } from "../adapters/telegram/index.ts";
import { createBot } from "../src/app.ts";
import { silentLogger } from "../src/logger.ts";
import type { InboundEvent } from "../src/model.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import { defineWorkflow } from "../src/tasks/workflow.ts";
import { startFakeTelegram, type FakeTelegram } from "../test/fakes/telegram/server.ts";
import { answeredCalls, compareVariants, comparisonLines, overheadFigures, percent, type Rate } from "./compare.ts";
import { machine, machineLine } from "./machine.ts";

/** The adapter's pacing lifted: this measures its own cost, not Telegram's limits. */
const UNPACED = { globalPerSecond: 1_000_000, perChatIntervalMs: 0, groupPerMinute: 1_000_000 };
const CHATS = 200;
/** Tolerance on arrival times at the fake (the bot paces sends, the fake timestamps arrivals). */
const JITTER_MS = 20;

/**
 * - `bare grammy`: a plain grammY bot, the baseline the target is about;
 * - `bare grammy + auto-retry`: the same with @grammyjs/auto-retry installed, which the adapter
 *   also uses and any bot that must survive 429s needs (shown beside, not the target's baseline);
 * - `adapter`: chatflow's Telegram adapter (pacing lifted, see UNPACED).
 */
type Variant = "bare grammy" | "bare grammy + auto-retry" | "adapter";

/** What a bare grammY bot must do to send a person's text in HTML parse mode. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Queues `count` text messages across CHATS private chats. */
function queueMessages(fake: FakeTelegram, count: number): number {
  let last = 0;
  for (let i = 0; i < count; i++) last = Number(fake.userMessage({ chatId: 10_000 + (i % CHATS), text: `message ${i}` }).update_id);
  return last;
}


/**
 * Updates per second from the moment the bot is started to the moment the fake saw `done`:
 * getUpdates, grammy's middleware, (for the adapter) normalization into InboundEvents, and
 * for echo the sendMessage of each update, answered before the next update is handled.
 * The fake runs in this process too, so the CPU time covers both ends (as the wall time does).
 */
async function run(variant: Variant, count: number, echo: boolean): Promise<Rate> {
  const fake = await startFakeTelegram();
  const last = queueMessages(fake, count);
  const sent = answeredCalls(fake.calls, "sendMessage");
  const done = echo ? () => sent() >= count : () => fake.confirmedOffset > last || fake.pendingUpdates === 0;
  let stop: () => Promise<void>;
  let started: number;
  let cpu = process.cpuUsage();
  if (variant !== "adapter") {
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    if (variant === "bare grammy + auto-retry") bot.api.config.use(autoRetry());
    // The updates a chat bot handles: text messages (grammY's filter, like the adapter's normalization).
    if (echo) bot.on("message:text", (ctx) => ctx.reply(escapeHtml(ctx.message.text), { parse_mode: "HTML", link_preview_options: { is_disabled: true } }));
    else bot.on("message:text", () => undefined);
    started = await new Promise<number>((resolve) =>
      void bot.start({
        drop_pending_updates: false,
        onStart: () => {
          cpu = process.cpuUsage();
          resolve(performance.now());
        },
      }),
    );
    stop = () => bot.stop();
  } else {
    const adapter = createTelegramAdapter({ token: fake.token, apiRoot: fake.apiRoot, throttle: UNPACED, logger: silentLogger() });
    await adapter.start(async (event: InboundEvent) => {
      if (echo && event.kind === "message") await adapter.send(event.address, { kind: "reply", text: event.text });
    });
    cpu = process.cpuUsage();
    started = performance.now();
    stop = () => adapter.stop();
  }
  await fake.waitUntil(done, 120_000, "all updates");
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await stop();
  await fake.close();
  if (fake.violations.length > 0) throw new Error(`spec violations: ${fake.violations.slice(0, 3).join("; ")}`);
  return { wall: (count / elapsed) * 1000, cpu: count / ((used.user + used.system) / 1e6) };
}

/** The variants in interleaved rounds (bench/compare.ts), with the figures the summary reads. */
async function compare(count: number, echo: boolean, variants: Variant[], rounds: number, warmup: number): Promise<Record<string, unknown>> {
  const r = await compareVariants({ variants, bare: "bare grammy", adapter: "adapter", rounds, warmup, run: (variant) => run(variant, count, echo) });
  const result: Record<string, unknown> = {
    updatesPerRound: count,
    rounds,
    warmupRounds: warmup,
    gcBetweenRounds: r.gcBetweenRounds,
    bareGrammyPerSecond: r.medians["bare grammy"],
    adapterPerSecond: r.medians.adapter,
    ...overheadFigures(r),
    ratesPerCpuSecond: r.ratesPerCpuSecond,
  };
  if (variants.includes("bare grammy + auto-retry")) {
    result.bareGrammyAutoRetryPerSecond = r.medians["bare grammy + auto-retry"];
    result.overheadVsAutoRetryPercent = percent(r.medians["bare grammy + auto-retry"]!, r.medians.adapter!);
  }
  return result;
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

/** Updates per round, measured rounds and warm-up rounds: 1-2 minutes in all on 2 cores. */
const INBOUND = { updates: 20_000, rounds: 25, warmup: 2 };
const ECHO = { updates: 2000, rounds: 25, warmup: 2 };

export async function runTelegramBench(): Promise<Record<string, unknown>> {
  const inbound = { ...(await compare(INBOUND.updates, false, ["bare grammy", "adapter"], INBOUND.rounds, INBOUND.warmup)), target: "overhead < 25%" };
  const echo = { ...(await compare(ECHO.updates, true, ["bare grammy", "bare grammy + auto-retry", "adapter"], ECHO.rounds, ECHO.warmup)), target: "overhead < 25%" };
  const results = { machine: machine(), inbound, echo, editStorm: await editStorm(3, 5) };
  // On stderr, so that stdout stays one JSON document (bench/run.ts).
  console.error(summary(results));
  return results;
}

/** The figures as a few lines of text, with the machine. */
function summary(results: { machine: Record<string, unknown>; inbound: Record<string, unknown>; echo: Record<string, unknown>; editStorm: Record<string, unknown> }): string {
  const m = results.machine;
  const lines = [machineLine("telegram", m)];
  for (const [name, r] of [["inbound (trivial handler)", results.inbound], ["echo (sendMessage per update)", results.echo]] as const) {
    lines.push(`${name}: ${r.updatesPerRound} updates × ${r.rounds} interleaved rounds (+${r.warmupRounds} warm-up), updates/s median (spread):`);
    lines.push(...comparisonLines(r));
    if (r.overheadVsAutoRetryPercent !== undefined) lines.push(`  overhead vs bare grammy + auto-retry ${r.overheadVsAutoRetryPercent}%`);
  }
  const storm = results.editStorm;
  lines.push(`edit storm: ${storm.chats} chats × ${storm.seconds} s, ${storm.progressUpdatesPushed} progress updates, ${storm.editsPerChatPerSecond} edits/chat/s (configured 1), min gap ${storm.minGapMs} ms, never above the rate: ${storm.neverAboveRate}`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runTelegramBench(), null, 2));
}
