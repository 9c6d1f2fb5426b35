/**
 * The LLM assistant's streamed answers, with the real bot: createBot with the Telegram adapter
 * against the fake Bot API server (test/fakes/telegram) and the assistant against the fake
 * OpenAI-compatible server (test/fakes/llm), both on 127.0.0.1, port 0, LLM_API_KEY in the
 * environment the assistant is given.
 * 1. First visible text: from the first token leaving the fake LLM to the first sendMessage or
 *    editMessageText with answer text arriving at the fake Telegram, over 20 answers, each in
 *    a new chat, with the adapter's defaults (editIntervalMs 1000, throttle: 1 s per chat).
 *    Target: under editIntervalMs + 50 ms. Beside it, follow-up questions in one chat, each
 *    asked as the previous answer ended (the chat's throttle slot just used), same target.
 * 2. Edits per message per second under a fast stream (a 2,000-word answer, a word a
 *    millisecond, continued over several messages past 4,096 characters): the most updates of
 *    one message (its post and edits, by arrival at the fake) in any 1-second window, beside
 *    the configured rate (1000 / editIntervalMs): never above it (allowing 20 ms of arrival
 *    jitter; the strict count is reported too); and the messages ending on the whole answer.
 *    Once with the adapter's defaults, once with its throttle lifted (the coalescing alone).
 * 3. The engine's overhead per streamed answer beside the AI SDK called directly (streamText
 *    over createOpenAICompatible, the whole stream consumed) on the same fake with the same
 *    scripted answer, in interleaved rounds (bench/compare.ts). Target: under 10%.
 * 4. The engine's overhead per agent loop (model call, tool call, model call) beside the same
 *    loop with the AI SDK directly: bench/agent.ts. Target: under 10%.
 * Run: `npm run bench -- llm` (or `node --expose-gc --import tsx bench/llm.ts`); JSON on
 * stdout, a summary with the machine on stderr (and the AI SDK's console warnings, counted).
 * About 1.5-2 minutes on 2 cores.
 */
import { pathToFileURL } from "node:url";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { streamText } from "ai";
import { createTelegramAdapter } from "../adapters/telegram/index.ts";
import { createBot, createMemoryStore, parseConfig, type Bot } from "../src/index.ts";
import { silentLogger } from "../src/logger.ts";
import { createAssistantWorkflow } from "../src/workflows/assistant/index.ts";
import { startFakeLlm, type FakeLlm, type RecordedRequest, type TextReply } from "../test/fakes/llm/server.ts";
import { startFakeTelegram, type FakeTelegram, type RecordedCall } from "../test/fakes/telegram/server.ts";
import { compareVariants, comparisonLines, formatSpread, measure, overheadFigures, type Rate, spread, type Spread } from "./compare.ts";
import { agentOverhead } from "./agent.ts";
import { machine, machineLine } from "./machine.ts";

/** The adapter's pacing lifted (part 3): the engine's own cost, not Telegram's limits. */
const UNPACED = { globalPerSecond: 1_000_000, perChatIntervalMs: 0, groupPerMinute: 1_000_000 };
/** The adapter's default edit interval (adapters/telegram/config.ts), parts 1 and 2. */
const EDIT_INTERVAL_MS = 1000;
/** Tolerance on arrival times at the fake: the bot paces the starts of its calls, the fake timestamps arrivals (1 ms clock). */
const JITTER_MS = 20;
/** The status message's final state ("Done · assistant", src/render/status.ts). */
const DONE = "Done · assistant";

const WORDS = ["owls", "hunt", "at", "night", "with", "silent", "feathers", "and", "keen", "ears", "that", "locate", "prey", "under", "snow"];

/** A deterministic answer of `count` words that starts with `first` (found in messages by it). */
function answerText(count: number, first: string): string {
  const words = [first];
  for (let i = 1; i < count; i++) words.push(WORDS[(i * 7) % WORDS.length]!);
  return `${words.join(" ")}.`;
}

interface Harness {
  telegram: FakeTelegram;
  bot: Bot;
  stop(): Promise<void>;
}

/**
 * The real bot on the fake Telegram, its plain messages routed to the assistant, which talks
 * to `llm` with LLM_API_KEY from the environment it is given (not this process's).
 */
async function startBot(llm: FakeLlm, adapterOptions: { editIntervalMs?: number; throttle?: typeof UNPACED }): Promise<Harness> {
  const telegram = await startFakeTelegram();
  const env = { LLM_API_KEY: llm.apiKey };
  const config = parseConfig({
    tasks: { concurrency: 20, startsPerUserPerMinute: 0 },
    scheduler: { enabled: false },
    routes: { default: { message: "assistant", commands: { ask: "assistant" } } },
    llm: { baseURL: llm.baseURL, model: llm.model },
  });
  const adapter = createTelegramAdapter({ token: telegram.token, apiRoot: telegram.apiRoot, logger: silentLogger(), ...adapterOptions });
  const bot = await createBot({ config, store: createMemoryStore(), adapters: [adapter], workflows: [createAssistantWorkflow(config)], logger: silentLogger(), env });
  await bot.start();
  return {
    telegram,
    bot,
    async stop() {
      await bot.stop();
      await telegram.close();
      if (telegram.violations.length > 0) throw new Error(`Telegram spec violations: ${telegram.violations.slice(0, 3).join("; ")}`);
    },
  };
}

/** Replies to each request with `reply(question)` and keeps the request by its question (the last user message). */
function scriptByQuestion(llm: FakeLlm, reply: (question: string) => TextReply): Map<string, RecordedRequest> {
  const requests = new Map<string, RecordedRequest>();
  llm.defaultReply = (request) => {
    const question = String(request.messages.at(-1)?.content ?? "");
    requests.set(question, request);
    return reply(question);
  };
  return requests;
}

/** Calls that set the text of a message: sendMessage and editMessageText, answered, in one chat. */
function textCalls(telegram: FakeTelegram, chatId: number): RecordedCall[] {
  return telegram.calls.filter((c) => (c.method === "sendMessage" || c.method === "editMessageText") && c.status === 200 && c.params.chat_id === chatId);
}

/** When the first token left the fake LLM, on Date.now()'s clock (the fake Telegram's). */
function firstTokenAt(request: RecordedRequest): number | undefined {
  return request.firstTokenMs === undefined ? undefined : request.at + request.firstTokenMs;
}

// ---- 1. first visible text -----------------------------------------------------------------

/**
 * Answers of 60 words at 5 ms a word, each in a new chat (a person's first question: nothing
 * else is queued for that chat), one after another: the next question is sent once the
 * previous answer's first text is visible (its end still streams and is shown meanwhile).
 */
async function firstVisible(answers: number, warmup: number): Promise<Record<string, unknown>> {
  const llm = await startFakeLlm();
  const requests = scriptByQuestion(llm, (question) => ({ text: answerText(60, `Answer-${question.split(" ")[1]}`), delayMs: 5 }));
  const h = await startBot(llm, { editIntervalMs: EDIT_INTERVAL_MS });
  const latencies: number[] = [];
  const statusFirst: boolean[] = [];
  for (let i = 0; i < warmup + answers; i++) {
    const chatId = 30_000 + i;
    const marker = `Answer-${i}`;
    h.telegram.userMessage({ chatId, text: `question ${i}` });
    const shown = await h.telegram.waitUntil(() => textCalls(h.telegram, chatId).find((c) => String(c.params.text).includes(marker)), 30_000, `the first text of answer ${i}`);
    const tokenAt = firstTokenAt(requests.get(`question ${i}`)!)!;
    if (i < warmup) continue;
    latencies.push(shown.at - tokenAt);
    // Whether the status message went out first in that chat (it takes the chat's 1-second slot).
    statusFirst.push(String(textCalls(h.telegram, chatId)[0]?.params.text).includes("· assistant"));
  }
  // Every answer ends (the status "Done") before the bot stops.
  await h.telegram.waitUntil(() => Array.from({ length: warmup + answers }, (_, i) => 30_000 + i).every((chatId) => textCalls(h.telegram, chatId).some((c) => String(c.params.text).includes(DONE))), 60_000, "every answer to end");
  await h.stop();
  await llm.close();
  const s = spread(latencies, 1);
  const p90 = percentile(latencies, 0.9);
  const targetMs = EDIT_INTERVAL_MS + 50;
  return {
    answers,
    warmupAnswers: warmup,
    editIntervalMs: EDIT_INTERVAL_MS,
    medianMs: s.median,
    p90Ms: +p90.toFixed(1),
    spreadMs: s,
    statusMessageFirst: statusFirst.filter(Boolean).length,
    targetMs,
    ok: p90 < targetMs && s.max < targetMs,
  };
}

/**
 * The same, for follow-up questions in one chat, each asked the moment the previous answer's
 * task has ended (its final status shown): the chat's throttle slot was just used.
 */
async function firstVisibleFollowUps(answers: number): Promise<Record<string, unknown>> {
  const llm = await startFakeLlm();
  const requests = scriptByQuestion(llm, (question) => ({ text: answerText(60, `Answer-${question.split(" ")[1]}`), delayMs: 5 }));
  const h = await startBot(llm, { editIntervalMs: EDIT_INTERVAL_MS });
  const chatId = 31_000;
  const latencies: number[] = [];
  for (let i = 0; i <= answers; i++) {
    const marker = `Answer-${i}`;
    const before = textCalls(h.telegram, chatId).length;
    h.telegram.userMessage({ chatId, text: `question ${i}` });
    const shown = await h.telegram.waitUntil(() => textCalls(h.telegram, chatId).find((c) => String(c.params.text).includes(marker)), 30_000, `the first text of answer ${i}`);
    // The first question of the chat is not a follow-up.
    if (i > 0) latencies.push(shown.at - firstTokenAt(requests.get(`question ${i}`)!)!);
    await h.telegram.waitUntil(() => textCalls(h.telegram, chatId).slice(before).some((c) => String(c.params.text).includes(DONE)), 30_000, `answer ${i} to end`);
  }
  await h.stop();
  await llm.close();
  const s = spread(latencies, 1);
  const targetMs = EDIT_INTERVAL_MS + 50;
  return { answers, medianMs: s.median, maxMs: s.max, spreadMs: s, targetMs, ok: s.max < targetMs };
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

// ---- 2. edits per message per second under a fast stream ------------------------------------

/** The most entries of sorted `times` inside any window [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j]! < times[i]! + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/**
 * One answer of `words` words, a word a millisecond (setTimeout's floor: about 1.2 ms), with
 * `adapterOptions`: the adapter's defaults, where the chat's 1-second throttle also paces the
 * edits, or the throttle lifted, where the edit interval (the engine's coalescing) alone must.
 */
async function fastStream(words: number, adapterOptions: { editIntervalMs: number; throttle?: typeof UNPACED }): Promise<Record<string, unknown>> {
  const llm = await startFakeLlm();
  const text = answerText(words, "Fast-answer");
  scriptByQuestion(llm, () => ({ text, delayMs: 1 }));
  const h = await startBot(llm, adapterOptions);
  const chatId = 40_000;
  const started = Date.now();
  h.telegram.userMessage({ chatId, text: "a long answer, please" });
  await h.telegram.waitUntil(() => textCalls(h.telegram, chatId).some((c) => String(c.params.text).includes(DONE)), 60_000, "the long answer to end");
  const request = llm.completions[0]!;
  await h.stop();
  await llm.close();
  // The answer's messages (not the status message), and the updates of each: its post, then its edits.
  const calls = textCalls(h.telegram, chatId);
  const answerIds = h.telegram.botMessages(chatId).filter((m) => !m.text.includes("· assistant")).map((m) => m.message_id);
  // The fake numbers messages as it answers, and records calls in the same order: the chat's n-th sendMessage posted its n-th bot message.
  const sends = calls.filter((c) => c.method === "sendMessage");
  const postedBy = new Map(h.telegram.botMessages(chatId).map((m, i) => [m.message_id, sends[i]!]));
  const perMessage = answerIds.map((id) => {
    const times = calls.filter((c) => c === postedBy.get(id) || (c.method === "editMessageText" && c.params.message_id === id)).map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    return { messageId: id, updates: times.length, maxPerSecond: maxInWindow(times, 1000), maxPerSecondJitterTolerant: maxInWindow(times, 1000 - JITTER_MS), minGapMs: gaps.length > 0 ? Math.min(...gaps) : null };
  });
  const shown = answerIds.map((id) => h.telegram.message(chatId, id)!.text);
  const normalize = (s: string) => s.replace(/\s+/g, " ").trim();
  const endsOnWholeText = normalize(shown.join(" ")) === normalize(text);
  const configured = 1000 / adapterOptions.editIntervalMs;
  const maxPerSecond = Math.max(...perMessage.map((m) => m.maxPerSecond));
  const maxTolerant = Math.max(...perMessage.map((m) => m.maxPerSecondJitterTolerant));
  const gaps = perMessage.map((m) => m.minGapMs).filter((g): g is number => g !== null);
  return {
    telegramThrottle: adapterOptions.throttle ? "lifted" : "default (1 s per chat)",
    editIntervalMs: adapterOptions.editIntervalMs,
    words,
    characters: text.length,
    streamSeconds: +(((request.finishedMs ?? 0) - (request.firstTokenMs ?? 0)) / 1000).toFixed(2),
    answerMessages: answerIds.length,
    updatesPerMessage: perMessage.map((m) => m.updates),
    configuredEditsPerSecond: configured,
    maxEditsPerMessagePerSecond: maxPerSecond,
    maxEditsPerMessagePerSecondJitterTolerant: maxTolerant,
    minGapMs: gaps.length > 0 ? Math.min(...gaps) : null,
    secondsToEnd: +((Date.now() - started) / 1000).toFixed(2),
    neverAboveRate: maxTolerant <= configured,
    endsOnWholeText,
    perMessage,
  };
}

// ---- 3. overhead beside the AI SDK ------------------------------------------------------------

/**
 * The workload: answers of 40 chunks (words) 5 ms apart, about 0.2 s of streaming each. A real
 * model streams for seconds (tokens every 10-50 ms), so the model dominates an answer; this
 * stream is shorter and denser than that, so the engine's fixed cost per answer (the update
 * coming in by long polling, the session, the task and its journal, the status message, the
 * answer's message, the result stored, the final status) weighs more than in real use: a
 * conservative figure that still answers "how much does the engine add to a streamed answer".
 * The Telegram pacing is lifted (editIntervalMs 0, throttle off): with the defaults the final
 * text would wait for the next 1-second slot, which is Telegram's limit, not engine cost. With
 * editIntervalMs 0 the answer is edited as fast as the round trips allow (more edits than real
 * pacing makes: conservative too). An answer of the engine is complete when its task has
 * finished: the answer's message shows the whole text, the result is stored, and the final
 * status ("Done") is on the fake, which comes last. Each answer is a question in a new chat
 * (no history to send), one after another; the baseline sends the same question and consumes
 * the whole stream.
 */
const OVERHEAD = { answersPerRound: 5, rounds: 15, warmup: 2, chunks: 40, delayMs: 5 };

type Variant = "ai sdk streamText" | "engine + telegram";

async function overhead(): Promise<Record<string, unknown>> {
  const llm = await startFakeLlm();
  const text = answerText(OVERHEAD.chunks, "Short-answer");
  scriptByQuestion(llm, () => ({ text, delayMs: OVERHEAD.delayMs }));
  const provider = createOpenAICompatible({ name: "llm", baseURL: llm.baseURL, apiKey: llm.apiKey, includeUsage: true });
  const model = provider.chatModel(llm.model);
  const perAnswerMs = new Map<Variant, number[]>([["ai sdk streamText", []], ["engine + telegram", []]]);
  let edits = 0;
  let engineAnswers = 0;
  let question = 0;
  let chat = 50_000;

  async function run(variant: Variant): Promise<Rate> {
    const n = OVERHEAD.answersPerRound;
    let rate: Rate;
    if (variant === "ai sdk streamText") {
      rate = await measure(n, () => undefined, async () => {
        for (let i = 0; i < n; i++) {
          const result = streamText({ model, messages: [{ role: "user", content: `question ${++question}` }], maxRetries: 2, onError: () => undefined });
          let answer = "";
          for await (const part of result.textStream) answer += part;
          if (answer !== text) throw new Error(`the AI SDK streamed ${JSON.stringify(answer.slice(0, 60))}…`);
        }
      });
    } else {
      const h = await startBot(llm, { editIntervalMs: 0, throttle: UNPACED });
      const first = chat;
      rate = await measure(n, () => undefined, async () => {
        for (let i = 0; i < n; i++) {
          const chatId = ++chat;
          h.telegram.userMessage({ chatId, text: `question ${++question}` });
          await h.telegram.waitUntil(() => doneIn(h.telegram, chatId), 30_000, `answer in chat ${chatId}`);
        }
      });
      for (let chatId = first + 1; chatId <= chat; chatId++) {
        const shown = h.telegram.botMessages(chatId).find((m) => m.text.startsWith("Short-answer"));
        if (shown?.text !== text) throw new Error(`chat ${chatId} ended on ${JSON.stringify(shown?.text.slice(0, 60))}…`);
        edits += textCalls(h.telegram, chatId).filter((c) => c.method === "editMessageText" && String(c.params.text).startsWith("Short-answer")).length;
        engineAnswers++;
      }
      await h.stop();
    }
    perAnswerMs.get(variant)!.push(1000 / rate.wall);
    return rate;
  }

  const r = await compareVariants({ variants: ["ai sdk streamText", "engine + telegram"] as const, bare: "ai sdk streamText", adapter: "engine + telegram", rounds: OVERHEAD.rounds, warmup: OVERHEAD.warmup, run });
  await llm.close();
  if (llm.violations.length > 0) throw new Error(`LLM fake violations: ${llm.violations.slice(0, 3).join("; ")}`);
  // Each variant ran once per round, warm-up rounds first.
  const ms = (variant: Variant) => spread(perAnswerMs.get(variant)!.slice(OVERHEAD.warmup), 1);
  return {
    answersPerRound: OVERHEAD.answersPerRound,
    rounds: OVERHEAD.rounds,
    warmupRounds: OVERHEAD.warmup,
    chunksPerAnswer: OVERHEAD.chunks,
    delayBetweenChunksMs: OVERHEAD.delayMs,
    gcBetweenRounds: r.gcBetweenRounds,
    msPerAnswer: { "ai sdk streamText": ms("ai sdk streamText"), "engine + telegram": ms("engine + telegram") },
    answerEditsPerAnswer: +(edits / Math.max(1, engineAnswers)).toFixed(1),
    ...overheadFigures(r),
    ratesPerCpuSecond: r.ratesPerCpuSecond,
    target: "overhead < 10%",
    ok: r.overheadPercent < 10,
  };
}

/** The task in `chatId` has finished: its final status is on the fake (shown after the result is stored). */
function doneIn(telegram: FakeTelegram, chatId: number): boolean {
  for (let i = telegram.calls.length - 1; i >= 0; i--) {
    const c = telegram.calls[i]!;
    if (c.params.chat_id === chatId && c.status === 200 && String(c.params.text ?? "").includes(DONE)) return true;
  }
  return false;
}

export async function runLlmBench(): Promise<Record<string, unknown>> {
  const warnings = countSdkWarnings();
  try {
    const results = {
      machine: machine(),
      firstVisible: await firstVisible(20, 2),
      firstVisibleFollowUps: await firstVisibleFollowUps(3),
      fastStream: await fastStream(2000, { editIntervalMs: EDIT_INTERVAL_MS }),
      fastStreamUnthrottled: await fastStream(2000, { editIntervalMs: EDIT_INTERVAL_MS, throttle: UNPACED }),
      overhead: await overhead(),
      agentOverhead: await agentOverhead(),
      sdkConsoleWarnings: warnings.seen(),
    };
    // On stderr, so that stdout stays one JSON document (bench/run.ts).
    console.error(summary(results));
    return results;
  } finally {
    warnings.restore();
  }
}

/**
 * The AI SDK's console warnings, counted instead of printed (one a model call would bury the
 * summary): how many, and each distinct text. Other console.warn output goes through.
 */
function countSdkWarnings(): { seen(): { count: number; distinct: string[] }; restore(): void } {
  const original = console.warn;
  const distinct = new Set<string>();
  let count = 0;
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(" ");
    if (!text.startsWith("AI SDK Warning")) return original(...args);
    count++;
    distinct.add(text);
  };
  return { seen: () => ({ count, distinct: [...distinct] }), restore: () => void (console.warn = original) };
}

type Figures = Record<string, unknown>;

function summary(results: { machine: Figures; firstVisible: Figures; firstVisibleFollowUps: Figures; fastStream: Figures; fastStreamUnthrottled: Figures; overhead: Figures; agentOverhead: Figures; sdkConsoleWarnings: { count: number; distinct: string[] } }): string {
  const m = results.machine;
  const f = results.firstVisible;
  const u = results.firstVisibleFollowUps;
  const o = results.overhead;
  const a = results.agentOverhead;
  const w = results.sdkConsoleWarnings;
  const verdict = (ok: unknown) => (ok ? "ok" : "FAIL");
  const perAnswer = o.msPerAnswer as Record<string, Spread>;
  return [
    machineLine("llm", m),
    `1. first token → first visible answer text (${f.answers} answers, new chats, editIntervalMs ${f.editIntervalMs}): median ${f.medianMs} ms, p90 ${f.p90Ms} ms, ${formatSpread(f.spreadMs as Spread, " ms")}; target < ${f.targetMs} ms: ${verdict(f.ok)}`,
    `   follow-ups in one chat (${u.answers}, each asked as the previous answer ended): median ${u.medianMs} ms, max ${u.maxMs} ms; target < ${u.targetMs} ms: ${verdict(u.ok)}`,
    ...[results.fastStream, results.fastStreamUnthrottled].map(
      (s) =>
        `2. fast stream, throttle ${s.telegramThrottle}, editIntervalMs ${s.editIntervalMs} (${s.words} words, ${s.characters} characters in ${s.streamSeconds} s, ${s.answerMessages} messages, updates ${JSON.stringify(s.updatesPerMessage)}, ended after ${s.secondsToEnd} s): max ${s.maxEditsPerMessagePerSecond} updates/message in any 1 s (${s.maxEditsPerMessagePerSecondJitterTolerant} allowing ${JITTER_MS} ms arrival jitter), min gap ${s.minGapMs} ms, configured ${s.configuredEditsPerSecond}/s: ${verdict(s.neverAboveRate)}; ends on the whole text: ${verdict(s.endsOnWholeText)}`,
    ),
    `3. overhead per streamed answer (${o.chunksPerAnswer} chunks ${o.delayBetweenChunksMs} ms apart, ${o.answersPerRound} answers × ${o.rounds} interleaved rounds (+${o.warmupRounds} warm-up), ${o.answerEditsPerAnswer} answer edits per answer), ms per answer:`,
    ...Object.entries(perAnswer).map(([variant, spreadMs]) => `  ${variant.padEnd(19)} ${formatSpread(spreadMs, " ms")}`),
    ...comparisonLines(o).slice(-1),
    `  ${verdict(o.ok)}`,
    `4. overhead per agent loop (${a.loop}; answer ${a.chunksPerAnswer} chunks ${a.delayBetweenChunksMs} ms apart; ${a.loopsPerRound} loops × ${a.rounds} interleaved rounds (+${a.warmupRounds} warm-up); engine on ${a.store}), ms per loop:`,
    ...Object.entries(a.msPerLoop as Record<string, Spread>).map(([variant, spreadMs]) => `  ${variant.padEnd(19)} ${formatSpread(spreadMs, " ms")}`),
    ...comparisonLines(a).slice(-1),
    `  ${verdict(a.ok)}`,
    `AI SDK console warnings: ${w.count}${w.distinct.length > 0 ? ` (${w.distinct.map((t) => JSON.stringify(t.slice(0, 90) + "…")).join("; ")})` : ""}`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runLlmBench(), null, 2));
}
