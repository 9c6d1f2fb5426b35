import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent, runWorkflow, tool, type AgentOptions } from "../../src/index.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { createRecordingAdapter } from "../../src/testing/recording-adapter.ts";
import { startFakeLlm, type FakeLlm } from "../fakes/llm/server.ts";

/**
 * defineAgent against the fake OpenAI-compatible server (scripted tool calls), through the
 * engine: every tool call a journaled step, approvals as reviews, the model told of refusals,
 * failures and invalid input.
 */
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function llm(): Promise<FakeLlm> {
  const fake = await startFakeLlm();
  stops.push(() => fake.close());
  return fake;
}

const modelOf = (fake: FakeLlm) => createOpenAICompatible({ name: "fake", baseURL: fake.baseURL, apiKey: fake.apiKey }).chatModel(fake.model);

/** The tool results the model was sent in its last request, by tool call id. */
function toolResults(fake: FakeLlm): Record<string, string> {
  const messages = fake.completions.at(-1)!.messages as Array<{ role: string; tool_call_id?: string; content?: unknown }>;
  return Object.fromEntries(messages.filter((m) => m.role === "tool").map((m) => [m.tool_call_id!, String(m.content)]));
}

function orders(calls: string[], over: Partial<Parameters<typeof tool>[0]> = {}) {
  return tool({
    title: "Looking up the order",
    description: "Finds an order by its number",
    inputSchema: z.object({ order: z.string() }),
    execute: async ({ order }: { order: string }) => {
      calls.push(order);
      return { order, status: "shipped" };
    },
    ...over,
  } as never);
}

describe("defineAgent", () => {
  it("runs a two-tool loop to a streamed answer: each tool once, its result back to the model, the status naming the tool", async () => {
    const fake = await llm();
    const looked: string[] = [];
    const etas: string[] = [];
    const agent = defineAgent({
      name: "support",
      model: modelOf(fake),
      system: "You help with orders.",
      tools: {
        lookup_order: orders(looked),
        eta: tool({ description: "When an order arrives", inputSchema: z.object({ order: z.string() }), execute: async ({ order }) => (etas.push(order), "Tuesday") }),
      },
    });
    fake.script(
      { toolCalls: [{ id: "call_a", name: "lookup_order", arguments: { order: "A-17" } }] },
      { toolCalls: [{ id: "call_b", name: "eta", arguments: { order: "A-17" } }] },
      { text: "Order A-17 has shipped and arrives on Tuesday." },
    );
    const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 20 } });
    const bot = await createBot({ config: { tasks: { retryBaseMs: 1 }, routes: { default: { message: "support" } } }, store: createMemoryStore(), adapters: [adapter], workflows: [agent], logger: silentLogger(), env: {} });
    await bot.start();
    stops.push(() => bot.stop());
    await adapter.deliver({ kind: "message", id: "m1", address: { platform: "test", channel: "c1", user: "alice", direct: true }, text: "Where is my order A-17?" });
    const reply = await adapter.waitFor((m) => m.kind === "reply" && m.text.startsWith("Order"));
    await bot.idle();
    expect(adapter.edits.filter((e) => e.messageId === reply.id).at(-1)?.message.text).toBe("Order A-17 has shipped and arrives on Tuesday.");
    expect(looked).toEqual(["A-17"]);
    expect(etas).toEqual(["A-17"]);
    expect(JSON.parse(toolResults(fake).call_a!)).toEqual({ order: "A-17", status: "shipped" });
    expect(toolResults(fake).call_b).toBe("Tuesday");
    expect(fake.completions[0]!.tools?.map((t) => t.name).sort()).toEqual(["ask_user", "eta", "lookup_order", "request_review"]);
    // Between model calls the status says which tool runs (its title, else its name).
    const statuses = [...adapter.sent, ...adapter.edits].filter((m) => m.message.kind === "status").map((m) => m.message.text);
    expect(statuses.some((text) => text.includes("Looking up the order…"))).toBe(true);
    expect(statuses.some((text) => text.includes("eta…"))).toBe(true);
    expect(fake.violations).toEqual([]);
  });

  it("a tool that needs approval waits on a review: approved it runs, rejected the model hears why, edited it runs with the person's input", async () => {
    const fake = await llm();
    const refunds: number[] = [];
    const refund = tool({
      description: "Refunds an amount to the customer",
      inputSchema: z.object({ amount: z.number().positive() }),
      needsApproval: true,
      execute: async ({ amount }) => (refunds.push(amount), `refunded ${amount}`),
    });
    const agent = (options: Partial<AgentOptions> = {}) => defineAgent({ name: "refunds", model: modelOf(fake), tools: { refund }, ...options });
    const call = (id: string) => ({ toolCalls: [{ id, name: "refund", arguments: { amount: 30 } }] });

    fake.script(call("r1"), { text: "Refunded." });
    const approved = await runWorkflow(agent(), { text: "refund me" }, { answers: [{ approved: true }] });
    expect(approved.task.status).toBe("completed");
    expect(approved.asked[0]).toMatchObject({ kind: "review", text: "Allow refund? (Refunds an amount to the customer)", review: { data: JSON.stringify({ amount: 30 }, null, 2) } });
    expect(refunds).toEqual([30]);
    expect(toolResults(fake).r1).toBe("refunded 30");

    fake.script(call("r2"), { text: "Not refunded." });
    const rejected = await runWorkflow(agent(), { text: "refund me" }, { answers: [{ approved: false, feedback: "only half" }] });
    expect(rejected.task.status).toBe("completed");
    expect(refunds).toEqual([30]);
    expect(toolResults(fake).r2).toBe("The person did not allow this call: only half");

    // An edit that doesn't fit the schema is shown again with the reason; the next one runs.
    fake.script(call("r3"), { text: "Refunded 15." });
    const edited = await runWorkflow(agent(), { text: "refund me" }, { answers: [{ approved: true, edited: '{"amount": -1}' }, { approved: true, edited: '{"amount": 15}' }] });
    expect(edited.task.status).toBe("completed");
    expect(edited.asked[1]!.text).toBe("That input does not fit refund: amount: Too small: expected number to be >0. Allow refund? (Refunds an amount to the customer)");
    expect(refunds).toEqual([30, 15]);
    expect(toolResults(fake).r3).toBe("refunded 15");
  });

  it("a tool that throws, input that does not fit, an unknown tool: the model is told and the task goes on", async () => {
    const fake = await llm();
    const looked: string[] = [];
    const agent = defineAgent({
      name: "faulty",
      model: modelOf(fake),
      tools: {
        lookup_order: orders(looked),
        broken: tool({ description: "Always fails", inputSchema: z.object({}), execute: async (): Promise<string> => Promise.reject(new Error("the order system is down")) }),
      },
    });
    fake.script(
      {
        toolCalls: [
          { id: "t1", name: "broken", arguments: {} },
          { id: "t2", name: "lookup_order", arguments: { order: 17 } },
          { id: "t3", name: "delete_everything", arguments: {} },
        ],
      },
      { text: "Sorry, I could not look that up." },
    );
    const run = await runWorkflow(agent, { text: "order 17?" });
    expect(run.task.status).toBe("completed");
    expect(run.task.result?.text).toBe("Sorry, I could not look that up.");
    const told = toolResults(fake);
    expect(told.t1).toBe("The tool broken failed: the order system is down");
    expect(told.t2).toMatch(/^The input for lookup_order was not valid: /);
    expect(told.t3).toMatch(/delete_everything/);
    expect(looked).toEqual([]);
  });

  it("ask_user in the middle of a loop: the answer goes back to the model, and the finished tool is not run again on the replay", async () => {
    const fake = await llm();
    const looked: string[] = [];
    const agent = defineAgent({ name: "asks", model: modelOf(fake), tools: { lookup_order: orders(looked) } });
    fake.script(
      { toolCalls: [{ id: "l1", name: "lookup_order", arguments: { order: "B-2" } }] },
      { toolCalls: [{ id: "q1", name: "ask_user", arguments: { question: "Refund or replace?", choices: ["refund", "replace"] } }] },
      { text: "I will replace it." },
    );
    const run = await runWorkflow(agent, { text: "my order B-2 is broken" }, { answers: ["replace"] });
    expect(run.task.status).toBe("completed");
    expect(run.asked.map((m) => m.text)).toEqual(["Refund or replace?"]);
    expect(toolResults(fake).q1).toBe("replace");
    // The status named the lookup, never the built-in asking (the question shows as waiting for the person).
    expect(run.task.step).toBe("Looking up the order…");
    // The task was parked and replayed from the top after the answer: the lookup ran once.
    expect(looked).toEqual(["B-2"]);
    expect(fake.completions).toHaveLength(3);
  });

  it("cancel during a slow tool aborts its execute through the task's signal", async () => {
    const fake = await llm();
    let aborted = false;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const slow = tool({
      description: "Takes a long time",
      inputSchema: z.object({}),
      execute: (_input, { abortSignal }) =>
        new Promise((_resolve, reject) => {
          started();
          abortSignal?.addEventListener("abort", () => {
            aborted = true;
            reject(abortSignal.reason);
          });
        }),
    });
    fake.script({ toolCalls: [{ id: "s1", name: "slow", arguments: {} }] });
    const adapter = createRecordingAdapter();
    const bot = await createBot({ config: { routes: { default: { message: "slowpoke" } } }, store: createMemoryStore(), adapters: [adapter], workflows: [defineAgent({ name: "slowpoke", model: modelOf(fake), tools: { slow } })], logger: silentLogger(), env: {} });
    await bot.start();
    stops.push(() => bot.stop());
    const { task } = await bot.startTask({ workflow: "slowpoke", input: { text: "go" }, address: { platform: "test", channel: "c", user: "u" } });
    await running;
    await bot.host.tasks.cancel(task.id, "u");
    await bot.idle();
    expect(aborted).toBe(true);
    expect((await bot.store.getTask(task.id))!.status).toBe("cancelled");
    expect(fake.completions).toHaveLength(1);
  });

  it("without a model and without llm: the task fails with what to set", async () => {
    const run = await runWorkflow(defineAgent({ name: "unset" }), { text: "hi" });
    expect(run.task.status).toBe("failed");
    expect(run.task.error).toMatch(/LLM_API_KEY/);
  });
});
