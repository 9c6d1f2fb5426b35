/**
 * Part 4 of `npm run bench -- llm`: the engine's overhead per agent loop (a model call that
 * asks for a tool, the tool, a model call that streams the answer) beside the same loop run
 * with the AI SDK directly (streamText with the same tool and `stopWhen: stepCountIs(3)`, no
 * durability), on the same fake OpenAI-compatible server with the same scripted replies, in
 * interleaved rounds (bench/compare.ts). The agent runs in a bot on the default store (lowdb,
 * in a temp dir: every model call and tool call journaled on disk), started with
 * bot.startTask, one task after the other, each to its end. Target: under 10%.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { stepCountIs, streamText } from "ai";
import { z } from "zod";
import { createBot, defineAgent, tool } from "../src/index.ts";
import { silentLogger } from "../src/logger.ts";
import { createRecordingAdapter } from "../src/testing/recording-adapter.ts";
import { startFakeLlm } from "../test/fakes/llm/server.ts";
import { compareVariants, measure, overheadFigures, spread, type Rate } from "./compare.ts";

const AGENT = { loopsPerRound: 5, rounds: 15, warmup: 2, chunks: 40, delayMs: 5 };
type Variant = "ai sdk tool loop" | "engine agent";

export async function agentOverhead(): Promise<Record<string, unknown>> {
  const llm = await startFakeLlm();
  const words = Array.from({ length: AGENT.chunks }, (_, i) => `word${i}`);
  const answer = `Order A-1 has shipped: ${words.join(" ")}.`;
  // Asked first, the model wants the tool; with the tool's result, it streams the answer.
  llm.defaultReply = (request) =>
    request.messages.some((m) => m.role === "tool") ? { text: answer, delayMs: AGENT.delayMs } : { toolCalls: [{ name: "lookup_order", arguments: { order: "A-1" } }] };
  const model = createOpenAICompatible({ name: "llm", baseURL: llm.baseURL, apiKey: llm.apiKey, includeUsage: true }).chatModel(llm.model);
  let lookups = 0;
  const tools = {
    lookup_order: tool({
      description: "The status of an order",
      inputSchema: z.object({ order: z.string() }),
      execute: async ({ order }) => (lookups++, { order, status: "shipped" }),
    }),
  };
  const dir = await mkdtemp(path.join(tmpdir(), "chatflow-bench-agent-"));
  const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 0 } });
  const bot = await createBot({
    config: { store: { dir }, routes: { default: { message: "support" } }, tasks: { startsPerUserPerMinute: 0 }, log: { level: "silent" } },
    adapters: [adapter],
    workflows: [defineAgent({ name: "support", model, tools })],
    logger: silentLogger(),
    env: {},
  });
  await bot.start();
  const perLoopMs = new Map<Variant, number[]>([["ai sdk tool loop", []], ["engine agent", []]]);
  let n = 0;

  async function run(variant: Variant): Promise<Rate> {
    const count = AGENT.loopsPerRound;
    const rate =
      variant === "ai sdk tool loop"
        ? await measure(count, () => undefined, async () => {
            for (let i = 0; i < count; i++) {
              const result = streamText({ model, messages: [{ role: "user", content: `where is my order? ${++n}` }], tools, stopWhen: stepCountIs(3), maxRetries: 2, onError: () => undefined });
              let text = "";
              for await (const part of result.textStream) text += part;
              if (text !== answer) throw new Error(`the AI SDK streamed ${JSON.stringify(text.slice(0, 60))}…`);
            }
          })
        : await measure(count, () => undefined, async () => {
            for (let i = 0; i < count; i++) {
              const { task } = await bot.startTask({ workflow: "support", input: { text: `where is my order? ${++n}` }, address: { platform: adapter.platform, channel: `c${n}`, user: "bench" } });
              await bot.idle();
              const done = await bot.store.getTask(task.id);
              if (done?.status !== "completed" || done.result?.text !== answer) throw new Error(`the agent's task ended ${done?.status}: ${JSON.stringify(done?.result?.text?.slice(0, 60))}`);
            }
          });
    perLoopMs.get(variant)!.push(1000 / rate.wall);
    return rate;
  }

  try {
    const r = await compareVariants({ variants: ["ai sdk tool loop", "engine agent"] as const, bare: "ai sdk tool loop", adapter: "engine agent", rounds: AGENT.rounds, warmup: AGENT.warmup, run });
    if (llm.violations.length > 0) throw new Error(`LLM fake violations: ${llm.violations.slice(0, 3).join("; ")}`);
    const ms = (variant: Variant) => spread(perLoopMs.get(variant)!.slice(AGENT.warmup), 1);
    return {
      loop: "model call (asks for the tool) + tool call + model call (streams the answer)",
      loopsPerRound: AGENT.loopsPerRound,
      rounds: AGENT.rounds,
      warmupRounds: AGENT.warmup,
      chunksPerAnswer: AGENT.chunks,
      delayBetweenChunksMs: AGENT.delayMs,
      store: "lowdb (temp dir)",
      toolCalls: lookups,
      msPerLoop: { "ai sdk tool loop": ms("ai sdk tool loop"), "engine agent": ms("engine agent") },
      ...overheadFigures(r),
      ratesPerCpuSecond: r.ratesPerCpuSecond,
      target: "overhead < 10%",
      ok: r.overheadPercent < 10,
    };
  } finally {
    await bot.stop();
    await llm.close();
    await rm(dir, { recursive: true, force: true });
  }
}
