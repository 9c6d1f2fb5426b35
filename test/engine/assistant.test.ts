import { afterEach, describe, expect, it } from "vitest";
import { createBot, type Bot } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Address } from "../../src/model.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { createRecordingAdapter, type RecordingAdapter } from "../../src/testing/recording-adapter.ts";
import { createAssistantWorkflow } from "../../src/workflows/assistant/index.ts";
import { startFakeLlm, type FakeLlm } from "../fakes/llm/server.ts";

/** The assistant workflow through the engine (recording adapter), against the fake OpenAI-compatible server. */
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const address: Address = { platform: "test", channel: "c1", user: "alice", direct: true };
let events = 0;

async function start(fake: FakeLlm | undefined, over: { key?: string; model?: string } = {}): Promise<{ bot: Bot; adapter: RecordingAdapter; say(text: string): Promise<void> }> {
  const config = parseConfig({
    tasks: { retryBaseMs: 1, stepRetries: 0 },
    routes: { default: { message: "assistant", commands: { ask: "assistant" } } },
    ...(fake ? { llm: { baseURL: fake.baseURL, model: over.model ?? fake.model, systemPrompt: "Be brief." } } : {}),
  });
  const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 20 } });
  const env = fake ? { LLM_API_KEY: over.key ?? fake.apiKey } : {};
  const bot = await createBot({ config, store: createMemoryStore(), adapters: [adapter], workflows: [createAssistantWorkflow(config)], logger: silentLogger(), env });
  await bot.start();
  stops.push(() => bot.stop());
  return { bot, adapter, say: (text) => adapter.deliver({ kind: "message", id: `e${++events}`, address, text }) };
}

async function llm(): Promise<FakeLlm> {
  const fake = await startFakeLlm();
  stops.push(() => fake.close());
  return fake;
}

/** The text a message shows now (its last edit). */
function shownNow(adapter: RecordingAdapter, id: string): string {
  return adapter.edits.filter((e) => e.messageId === id).at(-1)?.message.text ?? adapter.sent.find((s) => s.id === id)!.message.text;
}

describe("the assistant", () => {
  it("streams its answer into one message, sends the history with roles, and keeps the answer in history", async () => {
    const fake = await llm();
    const t = await start(fake);
    fake.script({ text: "Paris is the capital of France." });
    await t.say("What is the capital of France?");
    const reply = await t.adapter.waitFor((m) => m.kind === "reply" && m.taskId !== undefined);
    await fake.waitUntil(() => shownNow(t.adapter, reply.id) === "Paris is the capital of France.", 5000, "the whole answer shown");
    fake.script({ text: "Rome." });
    await t.say("And Italy?");
    const rome = await t.adapter.waitFor((m) => m.kind === "reply" && m.text.startsWith("Rome"));
    await fake.waitUntil(() => shownNow(t.adapter, rome.id) === "Rome.", 5000, "the second answer");
    const second = fake.completions.at(-1)!;
    expect(second.messages.map((m) => [m.role, m.content])).toEqual([
      ["system", "Be brief."],
      ["user", "What is the capital of France?"],
      ["assistant", "Paris is the capital of France."],
      ["user", "And Italy?"],
    ]);
    expect(t.adapter.sent.filter((s) => s.message.kind === "result")).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("a clarifying question from the model (ask_user) parks the task; the answer goes back to the model as the tool's result", async () => {
    const fake = await llm();
    const t = await start(fake);
    fake.script({ toolCalls: [{ name: "ask_user", arguments: { question: "Which city?", choices: ["Paris", "Rome"] } }] }, (request) => {
      const result = request.messages.find((m) => m.role === "tool");
      return { text: `You picked ${String(result?.content)}.` };
    });
    await t.say("Tell me about a city");
    const question = await t.adapter.waitFor((m) => m.kind === "question" && m.text === "Which city?");
    expect(question.message.actions?.filter((a) => a.role === "choice").map((a) => a.label)).toEqual(["Paris", "Rome"]);
    await t.adapter.deliver({ kind: "action", id: `e${++events}`, address, actionId: question.message.actions![1]!.id });
    const answer = await t.adapter.waitFor((m) => m.kind === "reply" && m.text.startsWith("You"));
    await fake.waitUntil(() => shownNow(t.adapter, answer.id) === "You picked Rome.", 5000, "the answer after the tool result");
    const tool = fake.completions.at(-1)!.messages.find((m) => m.role === "tool");
    expect(tool).toMatchObject({ tool_call_id: expect.any(String), content: "Rome" });
  });

  it("failures are sentences: a refused key names LLM_API_KEY, an unknown model names llm.model, never the key", async () => {
    const fake = await llm();
    const wrongKey = await start(fake, { key: "sk-wrong-secret" });
    await wrongKey.say("hello?");
    const refused = await wrongKey.adapter.waitFor((m) => m.kind === "notice" && m.text.includes("failed"));
    expect(refused.message.text).toMatch(/The model API refused the key \(HTTP 401\): check LLM_API_KEY\./);
    expect(refused.message.text).not.toContain("sk-wrong-secret");
    const unknown = await start(fake, { model: "no-such-model" });
    await unknown.say("hello?");
    const missing = await unknown.adapter.waitFor((m) => m.kind === "notice" && m.text.includes("failed"));
    expect(missing.message.text).toMatch(/The model "no-such-model" was not found at .*: check llm\.model\./);
  });

  it("a stream that dies half way keeps what arrived, marked as cut off", async () => {
    const fake = await llm();
    const t = await start(fake);
    fake.script({ cut: true, text: "The first part of an answer that goes on and on", afterChunks: 4 });
    await t.say("tell me");
    const reply = await t.adapter.waitFor((m) => m.kind === "reply" && m.taskId !== undefined);
    await fake.waitUntil(() => shownNow(t.adapter, reply.id).endsWith("(cut off: the model's answer was interrupted)"), 5000, "the cut-off mark");
    expect(shownNow(t.adapter, reply.id)).toMatch(/^The first part/);
  });

  it("/cancel aborts the model's request at once, mid-stream", async () => {
    const fake = await llm();
    const t = await start(fake);
    fake.script({ text: Array.from({ length: 200 }, (_, i) => `w${i}`).join(" "), delayMs: 50 });
    await t.say("write a lot");
    await t.adapter.waitFor((m) => m.kind === "reply" && m.taskId !== undefined);
    await t.adapter.deliver({ kind: "command", id: `e${++events}`, address, name: "cancel", args: "" });
    await fake.waitUntil(() => fake.completions[0]?.aborted, 5000, "the request aborted");
    const deadline = Date.now() + 5000;
    while ((await t.bot.store.listTasks()).items[0]?.status !== "cancelled") {
      if (Date.now() > deadline) throw new Error("the task was not cancelled");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });

  it("without configuration, fails (never a success) and says what to set (LLM_API_KEY, llm.baseURL, llm.model)", async () => {
    const t = await start(undefined);
    await t.say("hello?");
    const notice = await t.adapter.waitFor((m) => m.kind === "notice" && m.text.startsWith("Sorry, the task failed:"));
    expect(notice.message.text).toMatch(/^Sorry, the task failed: The assistant needs a model to talk to\. Set LLM_API_KEY .*llm\.baseURL .*llm\.model/);
    const [task] = (await t.bot.store.listTasks()).items;
    expect(task).toMatchObject({ status: "failed", error: expect.stringMatching(/^The assistant needs a model to talk to\./) });
    expect(t.adapter.sent.some((s) => s.message.kind === "result")).toBe(false);
  });
});

describe("routing to the assistant", () => {
  it("with the model configured, plain messages routed to the demo and /ask reach the assistant; remote workflows from the configuration are known", async () => {
    const fake = await llm();
    // Without `env`, createBot reads process.env: this test covers that default.
    const saved = process.env.LLM_API_KEY;
    process.env.LLM_API_KEY = fake.apiKey;
    stops.push(async () => {
      if (saved === undefined) delete process.env.LLM_API_KEY;
      else process.env.LLM_API_KEY = saved;
    });
    const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 10 } });
    const input: ConfigInput = { llm: { baseURL: fake.baseURL, model: fake.model }, workflows: { remote: [{ name: "reports", url: "http://127.0.0.1:9/api" }] } };
    const bot = await createBot({
      config: input,
      store: createMemoryStore(),
      adapters: [adapter],
      logger: silentLogger(),
    });
    await bot.start();
    stops.push(() => bot.stop());
    fake.script({ text: "Hello from the model." }, { text: "Asked." });
    await adapter.deliver({ kind: "message", id: `e${++events}`, address, text: "hi" });
    await adapter.waitFor((m) => m.kind === "reply" && m.text.startsWith("Hello"));
    await adapter.deliver({ kind: "command", id: `e${++events}`, address, name: "ask", args: "a question" });
    await adapter.waitFor((m) => m.kind === "reply" && m.text.startsWith("Asked"));
    expect(fake.completions).toHaveLength(2);
    await adapter.deliver({ kind: "command", id: `e${++events}`, address, name: "help", args: "" });
    const help = await adapter.waitFor((m) => m.kind === "reply" && m.text.startsWith("Send a message"));
    expect(help.message.text).toContain("/ask <text>");
  });
});
