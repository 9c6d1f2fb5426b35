import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, generateText, NoOutputGeneratedError, RetryError, stepCountIs, streamText, tool } from "ai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startFakeLlm, type FakeLlm } from "./server.ts";

/** The real AI SDK 6 (`ai` + `@ai-sdk/openai-compatible` 2) against the fake. */

let fake: FakeLlm;
beforeEach(async () => {
  fake = await startFakeLlm();
});
afterEach(async () => {
  await fake.close();
});

function provider(apiKey = fake.apiKey) {
  return createOpenAICompatible({ name: "fake", baseURL: fake.baseURL, apiKey, includeUsage: true });
}

const weather = tool({
  description: "The weather in a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: city === "Oslo" ? 4 : 21 }),
});

describe("text", () => {
  it("streams a text token by token, in order, with the usage chunk", async () => {
    fake.script({ text: "Hello there, brave new world", delayMs: 5 });
    const result = streamText({ model: provider().chatModel("fake-model"), system: "Be brief.", prompt: "Greet me", temperature: 0.2, maxOutputTokens: 64 });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);
    expect(parts).toEqual(["Hello", " there,", " brave", " new", " world"]);
    expect(await result.finishReason).toBe("stop");
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
    const [request] = fake.requests;
    expect(request).toMatchObject({ model: "fake-model", stream: true, stream_options: { include_usage: true }, temperature: 0.2, max_tokens: 64, status: 200, reply: "text", aborted: false });
    expect(request!.messages).toEqual([{ role: "system", content: "Be brief." }, { role: "user", content: "Greet me" }]);
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.headers["user-agent"]).toContain("ai-sdk/openai-compatible");
    // role chunk, 5 content chunks, finish chunk, usage chunk, [DONE]
    expect(request!.chunks).toHaveLength(9);
    expect(request!.chunks.at(-1)!.data).toBe("[DONE]");
    expect(request!.firstTokenMs).toBe(request!.chunks[1]!.ms);
    expect(request!.chunks[5]!.ms - request!.chunks[1]!.ms).toBeGreaterThanOrEqual(15);
    expect(fake.violations).toEqual([]);
  });

  it("answers generateText with one chat.completion, echoing the last user message by default", async () => {
    const { text, finishReason } = await generateText({ model: provider().chatModel("fake-model"), prompt: "ping pong" });
    expect(text).toBe("ping pong");
    expect(finishReason).toBe("stop");
    expect(fake.lastRequest).toMatchObject({ stream: false, stream_options: undefined, reply: "text", status: 200 });
  });
  it("without includeUsage (the provider's default) sends no stream_options and no usage chunk; all at once after a first delay", async () => {
    fake.script({ text: "All of it.", chunkSize: Infinity, firstDelayMs: 50 });
    const plain = createOpenAICompatible({ name: "fake", baseURL: fake.baseURL, apiKey: fake.apiKey });
    const result = streamText({ model: plain.chatModel("fake-model"), prompt: "hi" });
    expect(await result.text).toBe("All of it.");
    expect((await result.usage).inputTokens).toBeUndefined();
    const request = fake.lastRequest!;
    expect(request.stream_options).toBeUndefined();
    expect(request.chunks.map((c) => (c.data === "[DONE]" ? c.data : (c.data.choices as { finish_reason: string | null }[])[0]!.finish_reason))).toEqual([null, null, "stop", "[DONE]"]);
    expect(request.firstTokenMs).toBeGreaterThanOrEqual(45);
  });
});

describe("tools", () => {
  it("streams tool calls (arguments in pieces) and the tool loop sends the results back", async () => {
    fake.script(
      { toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }, { name: "weather", arguments: { city: "Rome" } }], argumentChunkSize: 3 },
      (request) => {
        const results = request.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(String(m.content)) as { city: string; tempC: number });
        return { text: results.map((r) => `${r.city} ${r.tempC}°C`).join(", ") };
      },
    );
    const result = streamText({ model: provider().chatModel("fake-model"), prompt: "Weather in Oslo and Rome?", tools: { weather }, stopWhen: stepCountIs(3) });
    expect(await result.text).toBe("Oslo 4°C, Rome 21°C");
    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    expect(steps[0]!.finishReason).toBe("tool-calls");
    expect(steps[0]!.toolCalls.map((c) => [c.toolCallId, c.toolName, c.input])).toEqual([["call_1", "weather", { city: "Oslo" }], ["call_2", "weather", { city: "Rome" }]]);

    const [first, second] = fake.requests;
    expect(first!.tools).toEqual([{ name: "weather", description: "The weather in a city", parameters: expect.objectContaining({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }) }]);
    expect(first!.chunks.filter((c) => c.data !== "[DONE]" && JSON.stringify(c.data).includes('"arguments":"') ).length).toBeGreaterThan(6);
    expect(second!.messages.slice(1)).toEqual([
      { role: "assistant", content: null, tool_calls: [
        { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
        { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
      ] },
      { role: "tool", tool_call_id: "call_1", content: '{"city":"Oslo","tempC":4}' },
      { role: "tool", tool_call_id: "call_2", content: '{"city":"Rome","tempC":21}' },
    ]);
    expect(fake.violations).toEqual([]);
  });

  it("answers a non-streamed tool call, tool_choice recorded", async () => {
    fake.script({ toolCalls: [{ name: "weather", arguments: { city: "Rome" }, id: "call_rome" }] });
    const { steps, finishReason } = await generateText({ model: provider().chatModel("fake-model"), prompt: "Rome?", tools: { weather }, toolChoice: { type: "tool", toolName: "weather" } });
    expect(finishReason).toBe("tool-calls");
    expect(steps[0]!.toolResults[0]).toMatchObject({ toolCallId: "call_rome", input: { city: "Rome" }, output: { city: "Rome", tempC: 21 } });
    expect(fake.lastRequest).toMatchObject({ stream: false, tool_choice: { type: "function", function: { name: "weather" } }, reply: "tool_calls" });
  });
});

describe("errors", () => {
  it("a wrong key is 401 and an unknown model 404, not retried", async () => {
    const unauthorized = await generateText({ model: provider("sk-wrong").chatModel("fake-model"), prompt: "hi" }).catch((e: unknown) => e);
    expect(APICallError.isInstance(unauthorized)).toBe(true);
    expect(unauthorized).toMatchObject({ statusCode: 401, isRetryable: false, message: expect.stringContaining("Incorrect API key") });
    const missing = await generateText({ model: provider().chatModel("gpt-nope"), prompt: "hi" }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ statusCode: 404, message: "The model `gpt-nope` does not exist or you do not have access to it.", data: { error: { code: "model_not_found" } } });
    fake.forbidden.add("fake-model-mini");
    const forbidden = await generateText({ model: provider().chatModel("fake-model-mini"), prompt: "hi" }).catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ statusCode: 403 });
    expect(fake.requests.map((r) => [r.status, r.auth])).toEqual([[401, "wrong"], [404, "ok"], [403, "ok"]]);
  });

  it("a 429 with Retry-After is retried after the delay it asks, then succeeds", async () => {
    fake.script({ status: 429, retryAfter: 0.3 }, { text: "Finally." });
    const { text } = await generateText({ model: provider().chatModel("fake-model"), prompt: "hi", maxRetries: 2 });
    expect(text).toBe("Finally.");
    const [limited, ok] = fake.requests;
    expect(limited!.status).toBe(429);
    expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(280);
  });

  it("500s past maxRetries end in a RetryError (retry-after-ms honoured)", async () => {
    fake.script({ status: 500, retryAfterMs: 10 }, { status: 500, retryAfterMs: 10 });
    let error: unknown;
    const result = streamText({ model: provider().chatModel("fake-model"), prompt: "hi", maxRetries: 1, onError: (event) => void (error = event.error) });
    // streamText's promises reject with NoOutputGeneratedError; the RetryError goes to onError (and fullStream).
    expect(NoOutputGeneratedError.isInstance(await Promise.resolve(result.text).catch((e: unknown) => e))).toBe(true);
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).reason).toBe("maxRetriesExceeded");
    expect((error as RetryError).lastError).toMatchObject({ statusCode: 500 });
    expect(fake.requests).toHaveLength(2);
  });

  it("a stream cut half way ends with an error after the partial text", async () => {
    fake.script({ cut: true, text: "one two three four five", afterChunks: 2 });
    const errors: unknown[] = [];
    const result = streamText({ model: provider().chatModel("fake-model"), prompt: "count", maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const parts: string[] = [];
    // The read error is thrown by the iteration (not an error part, not onError): status 200, cause "terminated".
    const thrown = await (async () => {
      for await (const part of result.textStream) parts.push(part);
    })().catch((e: unknown) => e);
    expect(parts).toEqual(["one", " two"]);
    expect(APICallError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({ statusCode: 200, message: "Failed to process successful response", cause: { message: "terminated" } });
    expect(APICallError.isInstance(await Promise.resolve(result.text).catch((e: unknown) => e))).toBe(true);
    expect(errors).toEqual([]);
    expect(fake.lastRequest).toMatchObject({ cut: true, aborted: false });
  });
});

describe("cancel and timeouts", () => {
  it("an AbortSignal aborting mid-stream closes the connection (recorded)", async () => {
    fake.script({ text: "a b c d e f g h i j k l m n o p", delayMs: 50 });
    const controller = new AbortController();
    let aborted = false;
    const result = streamText({ model: provider().chatModel("fake-model"), prompt: "alphabet", abortSignal: controller.signal, onAbort: () => void (aborted = true) });
    const parts: string[] = [];
    for await (const part of result.textStream) {
      parts.push(part);
      if (parts.length === 3) controller.abort();
    }
    expect(parts.slice(0, 3)).toEqual(["a", " b", " c"]);
    const request = await fake.waitUntil(() => fake.lastRequest?.aborted && fake.lastRequest, 5000, "the abort");
    expect(request.finishedMs).toBeUndefined();
    expect(request.chunks.length).toBeLessThan(12);
    expect(aborted).toBe(true);
  });

  it("a hang times out on the client's signal; the connection is recorded aborted", async () => {
    fake.script({ hang: true });
    const error = await generateText({ model: provider().chatModel("fake-model"), prompt: "hi", abortSignal: AbortSignal.timeout(200), maxRetries: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("TimeoutError");
    await fake.waitUntil(() => fake.lastRequest?.aborted, 5000, "the hung request closed");
    expect(fake.lastRequest).toMatchObject({ status: 0, reply: "hang" });
  });
});

describe("violations", () => {
  it("a script entry that throws is answered 500 and recorded", async () => {
    fake.script(() => {
      throw new Error("boom");
    });
    const error = await generateText({ model: provider().chatModel("fake-model"), prompt: "hi", maxRetries: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 500 });
    expect(fake.violations).toEqual(["#1: fake: a script entry threw: boom"]);
  });

  it("records requests that don't fit the chat-completions shape and answers 400", async () => {
    const post = (body: unknown) => fetch(`${fake.baseURL}/chat/completions`, { method: "POST", headers: { Authorization: `Bearer ${fake.apiKey}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect((await post({ messages: [{ role: "user", content: "hi" }] })).status).toBe(400);
    const bad = await post({ model: "fake-model", messages: [{ role: "robot", content: "beep" }, { role: "tool", content: "x" }, { role: "tool", tool_call_id: "call_9", content: "y" }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    expect(fake.violations).toEqual([
      "#1: missing model",
      '#2: messages[0]: role "robot" is not system, user, assistant or tool',
      "#2: messages[1]: a tool message without tool_call_id",
      "#2: messages[2]: a tool result for an unknown call call_9",
    ]);
  });
});
