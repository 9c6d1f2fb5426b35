import { afterEach, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/schema.ts";
import type { TelegramAdapterOptions } from "../../adapters/telegram/index.ts";
import { startFakeLlm, type FakeLlm } from "../fakes/llm/server.ts";
import type { RecordedCall } from "../fakes/telegram/server.ts";
import { ALICE, cleanupList, keyboardOf, startTelegramBot, type TelegramBotHarness } from "./telegram-setup.ts";

/**
 * The LLM assistant through a real adapter: the whole bot (createBot) on the grammY-based
 * Telegram adapter against the fake Bot API server, and the assistant against the fake
 * OpenAI-compatible server. With `llm` set and LLM_API_KEY in the bot's environment, plain
 * messages go to the assistant.
 */
const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function start(options: { config?: ConfigInput; adapter?: Partial<TelegramAdapterOptions> } = {}): Promise<{ h: TelegramBotHarness; llm: FakeLlm }> {
  const llm = await startFakeLlm();
  cleanup.add(() => llm.close());
  const h = await startTelegramBot({
    env: { LLM_API_KEY: llm.apiKey },
    config: { tasks: { retryBaseMs: 1, stepRetries: 0 }, llm: { baseURL: llm.baseURL, model: llm.model, systemPrompt: "Be brief." }, ...options.config },
    ...(options.adapter ? { adapter: options.adapter } : {}),
  });
  cleanup.add(async () => {
    try {
      // Every call the bot made fits the Bot API spec, and every model request the chat-completions shape.
      expect(h.fake.violations).toEqual([]);
      expect(llm.violations).toEqual([]);
    } finally {
      await h.stop();
    }
  });
  return { h, llm };
}

/** The texts of the messages the bot posted in Alice's chat, as they look now. */
function shownTexts(h: TelegramBotHarness): string[] {
  return h.fake.botMessages(ALICE).map((m) => m.text);
}

/** The tool result the model got in a request (the tool message's content). */
function toolResult(llm: FakeLlm, n: number): unknown {
  return llm.completions[n]?.messages.find((m) => m.role === "tool")?.content;
}

describe("telegram: the assistant's streamed answer", () => {
  it("is one message, posted once and edited in place, never faster than editIntervalMs, ending on the whole text", async () => {
    const editIntervalMs = 200;
    const { h, llm } = await start({ adapter: { editIntervalMs } });
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`);
    const full = words.join(" ");
    // A slow-ish stream: 60 chunks, 25 ms apart (about 1.5 s), so the answer grows over several edits.
    llm.script({ text: full, delayMs: 25 });
    h.say("Tell me a long story");

    const answer = await h.botMessage((m) => m.text.startsWith("word0"));
    await h.fake.waitUntil(() => h.fake.message(ALICE, answer.message_id)?.text === full, 10_000, "the whole answer shown");
    await h.waitForTask((task) => task.status === "completed");

    // Posted once: one sendMessage shows the start of the answer, and no other message shows any of it.
    const posts = h.fake.callsOf("sendMessage").filter((c) => String(c.params.text).startsWith("word0"));
    expect(posts).toHaveLength(1);
    expect(h.fake.botMessages(ALICE).filter((m) => m.text.includes("word0"))).toHaveLength(1);
    // The result was shown in the streamed message: no second message with the answer.
    expect(shownTexts(h).filter((text) => text === full)).toHaveLength(1);

    const edits = h.fake.callsOf("editMessageText").filter((c) => c.params.message_id === answer.message_id);
    expect(edits.length).toBeGreaterThanOrEqual(3);
    // Every edit grows the text; the last shows all of it.
    const texts = [posts[0]!, ...edits].map((c) => String(c.params.text));
    texts.slice(1).forEach((text, i) => expect(text.startsWith(texts[i]!), `edit ${i + 1} continues the text`).toBe(true));
    expect(texts.at(-1)).toBe(full);
    expect(edits.every((c) => c.params.chat_id === ALICE)).toBe(true);

    // The pacing, as the fake saw it: the engine starts a call to this message at most once per
    // editIntervalMs (measured with Date.now() when it hands the call to the adapter). The fake
    // stamps a call when its request arrives, a little later (grammY, the throttle's chat lane,
    // the HTTP request), and that delay differs by a few ms from call to call (more on a busy
    // machine: up to 6 ms seen with the cores saturated); timers also fire on a ms clock. So a
    // gap may look up to that much shorter than the interval without the engine ever going
    // faster; a real pacing fault shows as gaps near 0 (a burst) or well under the interval.
    const SLACK_MS = 20;
    const times = [posts[0]!, ...edits].map((c: RecordedCall) => c.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps), `gaps between edits: ${gaps.join(", ")} ms`).toBeGreaterThanOrEqual(editIntervalMs - SLACK_MS);
    // And the stream did not wait for its end: the first edits came while the model was still streaming.
    const streamEnd = llm.completions[0]!.at + llm.completions[0]!.finishedMs!;
    expect(edits[0]!.at).toBeLessThan(streamEnd);
  });
});

describe("telegram: a streamed answer longer than one message", () => {
  it("goes on in a second message once the first is full; together they show the whole text, each posted once", async () => {
    const { h, llm } = await start({ adapter: { editIntervalMs: 50 } });
    const sentences = Array.from({ length: 120 }, (_, i) => `Sentence number ${i} of a long answer that keeps going.`);
    const full = sentences.join(" ");
    expect(full.length).toBeGreaterThan(5000);
    llm.script({ text: full, chunkSize: 150, delayMs: 5 });
    h.say("Write at length");
    const first = await h.botMessage((m) => m.text.startsWith("Sentence number 0 "));
    // The only message posted after the answer's first one (the status message came before it).
    const second = await h.botMessage((m) => m.message_id > first.message_id, ALICE, 10_000);
    await h.waitForTask((task) => task.status === "completed", 10_000);
    const shown = [h.fake.message(ALICE, first.message_id)!.text, h.fake.message(ALICE, second.message_id)!.text];
    expect(shown[0]!.length).toBeLessThanOrEqual(4096);
    expect(shown.join(" ")).toBe(full);
    expect(h.fake.botMessages(ALICE).filter((m) => m.message_id >= first.message_id).map((m) => m.message_id)).toEqual([first.message_id, second.message_id]);
  });
});

describe("telegram: the model's history", () => {
  it("after two exchanges, the model's request holds the earlier user and assistant turns with their roles", async () => {
    const { h, llm } = await start();
    llm.script({ text: "Paris is the capital of France." });
    h.say("What is the capital of France?");
    await h.botMessage((m) => m.text === "Paris is the capital of France.");
    await h.waitForTask((task) => task.status === "completed");

    llm.script({ text: "Rome." });
    h.say("And of Italy?");
    await h.botMessage((m) => m.text === "Rome.");
    await h.waitForTask((task) => task.status === "completed" && (task.input as { text: string }).text === "And of Italy?");

    expect(llm.completions).toHaveLength(2);
    expect(llm.completions[1]!.messages.map((m) => [m.role, m.content])).toEqual([
      ["system", "Be brief."],
      ["user", "What is the capital of France?"],
      ["assistant", "Paris is the capital of France."],
      ["user", "And of Italy?"],
    ]);
  });
});

describe("telegram: the model asks the person (ask_user)", () => {
  function scriptQuestion(llm: FakeLlm): void {
    llm.script({ toolCalls: [{ name: "ask_user", arguments: { question: "Which city do you mean?", choices: ["Paris", "Rome"] } }] }, (request) => {
      const result = request.messages.find((m) => m.role === "tool");
      return { text: `Here is a guide to ${String(result?.content)}.` };
    });
  }

  it("its choices become an inline keyboard; a press goes back to the model as the tool's result, and the answer is posted", async () => {
    const { h, llm } = await start();
    scriptQuestion(llm);
    h.say("Tell me about a city");
    const question = await h.botMessage((m) => m.text === "Which city do you mean?");
    expect(keyboardOf(question)).toEqual([["Paris"], ["Rome"], ["Cancel task"]]);
    await h.recorded(question);
    const query = h.fake.press({ chatId: ALICE, messageId: question.message_id, label: "Rome" });

    await h.botMessage((m) => m.text === "Here is a guide to Rome.");
    await h.waitForTask((task) => task.status === "completed");
    expect(h.fake.answered(query)).toBe(true);
    expect(llm.completions).toHaveLength(2);
    const second = llm.completions[1]!;
    // The model's own tool call, then the person's answer as its result.
    const call = second.messages.find((m) => m.role === "assistant")?.tool_calls?.[0];
    expect(call).toMatchObject({ type: "function", function: { name: "ask_user" } });
    expect(second.messages.find((m) => m.role === "tool")).toMatchObject({ tool_call_id: call!.id, content: "Rome" });
    expect(shownTexts(h).filter((text) => text === "Here is a guide to Rome.")).toHaveLength(1);
  });

  it("text the model wrote before its question stays one message, not shown again when the task goes on", async () => {
    const { h, llm } = await start();
    llm.script({ text: "Let me narrow it down first.", toolCalls: [{ name: "ask_user", arguments: { question: "Which city do you mean?", choices: ["Paris", "Rome"] } }] }, { text: "Rome it is." });
    h.say("Tell me about a city");
    const question = await h.botMessage((m) => m.text === "Which city do you mean?");
    const before = await h.botMessage((m) => m.text === "Let me narrow it down first.");
    expect(before.message_id).toBeLessThan(question.message_id);
    await h.recorded(question);
    h.fake.press({ chatId: ALICE, messageId: question.message_id, label: "Rome" });
    await h.botMessage((m) => m.text === "Rome it is.");
    await h.waitForTask((task) => task.status === "completed");
    expect(shownTexts(h).filter((text) => text === "Let me narrow it down first.")).toHaveLength(1);
    // The model's second request has its own earlier text with the tool call.
    expect(llm.completions[1]!.messages.find((m) => m.role === "assistant")).toMatchObject({ content: "Let me narrow it down first.", tool_calls: [expect.objectContaining({ function: expect.objectContaining({ name: "ask_user" }) })] });
  });

  it("typing the answer instead of pressing works the same", async () => {
    const { h, llm } = await start();
    scriptQuestion(llm);
    h.say("Tell me about a city");
    const question = await h.botMessage((m) => m.text === "Which city do you mean?");
    await h.recorded(question);
    h.say("paris");

    await h.botMessage((m) => m.text === "Here is a guide to Paris.");
    await h.waitForTask((task) => task.status === "completed");
    expect(llm.completions).toHaveLength(2);
    expect(toolResult(llm, 1)).toBe("Paris");
    // The typed answer was taken as the answer, not as a new request to the assistant.
    expect(llm.completions.map((r) => r.messages.filter((m) => m.role === "user").length)).toEqual([1, 1]);
    expect(shownTexts(h).filter((text) => text === "Here is a guide to Paris.")).toHaveLength(1);
  });
});

describe("telegram: the model asks for a review (request_review)", () => {
  it("shows the draft with Approve / Reject / Edit; approving continues, and the model gets the verdict", async () => {
    const { h, llm } = await start();
    llm.script({ toolCalls: [{ name: "request_review", arguments: { question: "Send this reply?", draft: "Dear team, the launch moves to Friday." } }] }, (request) => {
      const verdict = JSON.parse(String(request.messages.find((m) => m.role === "tool")?.content)) as { approved: boolean };
      return { text: verdict.approved ? "Sent: the launch moves to Friday." : "Not sent." };
    });
    h.say("Draft a note to the team about the launch");
    const review = await h.botMessage((m) => m.text.startsWith("Send this reply?"));
    expect(keyboardOf(review)).toEqual([["Approve", "Reject", "Edit"]]);
    expect(review.html).toContain("<blockquote>Dear team, the launch moves to Friday.");
    await h.recorded(review);
    h.fake.press({ chatId: ALICE, messageId: review.message_id, label: "Approve" });

    await h.botMessage((m) => m.text === "Sent: the launch moves to Friday.");
    await h.waitForTask((task) => task.status === "completed");
    expect(llm.completions).toHaveLength(2);
    expect(JSON.parse(String(toolResult(llm, 1)))).toEqual({ approved: true });
  });
});

describe("telegram: the model's other questions", () => {
  it("a question without choices is answered by typing; the text goes back to the model", async () => {
    const { h, llm } = await start();
    llm.script({ toolCalls: [{ name: "ask_user", arguments: { question: "What is your budget?" } }] }, (request) => ({ text: `With ${String(request.messages.find((m) => m.role === "tool")?.content)} you can stay a week.` }));
    h.say("Plan a trip");
    const question = await h.botMessage((m) => m.text === "What is your budget?");
    expect(keyboardOf(question).flat()).not.toContain("Paris");
    await h.recorded(question);
    h.say("about 900 euros");
    await h.botMessage((m) => m.text === "With about 900 euros you can stay a week.");
    await h.waitForTask((task) => task.status === "completed");
    expect(toolResult(llm, 1)).toBe("about 900 euros");
  });

  it("a review answered with Edit: the corrected text and the feedback reach the model in the verdict", async () => {
    const { h, llm } = await start();
    llm.script({ toolCalls: [{ name: "request_review", arguments: { question: "Send this reply?", draft: "See you Friday." } }] }, (request) => {
      const verdict = JSON.parse(String(request.messages.find((m) => m.role === "tool")?.content)) as { edited?: string };
      return { text: `Sent: ${verdict.edited ?? "?"}` };
    });
    h.say("Answer the invitation");
    const review = await h.botMessage((m) => m.text.startsWith("Send this reply?"));
    await h.recorded(review);
    h.fake.press({ chatId: ALICE, messageId: review.message_id, label: "Edit" });
    const prompt = await h.botMessage((m) => m.text === "Send the corrected text as your next message.");
    h.say("See you Saturday.", { replyTo: prompt });
    const feedback = await h.botMessage((m) => m.text.startsWith("Thanks. Any feedback"));
    h.say("the day was wrong", { replyTo: feedback });
    await h.botMessage((m) => m.text === "Sent: See you Saturday.");
    await h.waitForTask((task) => task.status === "completed");
    expect(JSON.parse(String(toolResult(llm, 1)))).toEqual({ approved: true, edited: "See you Saturday.", feedback: "the day was wrong" });
  });
});

describe("telegram: limits", () => {
  it("an over-long /ask gets the sentence naming the limit, and the model is never called", async () => {
    const { h, llm } = await start({ config: { history: { maxMessageLength: 100 } } });
    h.say(`/ask ${"why ".repeat(40).trim()}`);
    const reply = await h.botMessage((m) => m.text.startsWith("Your message is"));
    expect(reply.text).toBe("Your message is 159 characters long; the limit is 100. Please send a shorter one.");
    // The engine answered the command without starting a task: nothing can call the model now.
    expect((await h.bot.store.listTasks()).items).toEqual([]);
    expect(llm.requests).toEqual([]);
  });
});
