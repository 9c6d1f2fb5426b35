import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { ALICE, cleanupList, keyboardOf, startTelegramBot } from "./telegram-setup.ts";

// The whole engine (createBot, memory store, demo workflow) on the real grammy-based adapter,
// against the fake Bot API server; assertions are on what the fake recorded.
const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function bot(options: Parameters<typeof startTelegramBot>[0] = {}) {
  const h = await startTelegramBot(options);
  cleanup.add(async () => {
    try {
      // Every call the bot made conforms to the Bot API spec.
      expect(h.fake.violations).toEqual([]);
    } finally {
      await h.stop();
    }
  });
  return h;
}

describe("telegram bot: a whole demo conversation", () => {
  it("progress edits, an inline-keyboard question, a review answered with Edit, feedback skipped, the result with links", async () => {
    const h = await bot();
    const { fake } = h;
    h.say("tell me about owls");

    // One status message, posted once and edited in place with a bar and the step.
    const status = await h.botMessage((m) => /^(Queued|Working) · demo/.test(m.text));
    // "typing…" while the work runs (sent when the task starts, just after the status message).
    await fake.waitUntil(() => fake.calls.some((c) => c.method === "sendChatAction" && c.params.chat_id === ALICE && c.params.action === "typing"), 2000, "a typing indicator");

    // A question with choices: an inline keyboard, one choice per row, cancel on its own row.
    const question = await h.botMessage((m) => m.text === "Which kind of answer do you want?");
    expect(keyboardOf(question)).toEqual([["Short summary"], ["Detailed report"], ["Cancel task"]]);
    await h.recorded(question);
    const queryId = fake.press({ chatId: ALICE, messageId: question.message_id, label: "Detailed report" });

    // The press answered (the spinner stops, no notice: the answer was taken), and the
    // question edited to show the choice, without its buttons.
    await fake.waitUntil(() => fake.answered(queryId) && fake.message(ALICE, question.message_id)?.text.endsWith("→ Detailed report"));
    const answer = fake.calls.find((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === queryId);
    expect(answer?.params.text).toBeUndefined();
    expect(keyboardOf(fake.message(ALICE, question.message_id))).toEqual([]);

    // The review: the draft quoted, Approve / Reject / Edit in one row.
    const review = await h.botMessage((m) => m.text.startsWith("Publish this draft?"));
    expect(keyboardOf(review)).toEqual([["Approve", "Reject", "Edit"]]);
    expect(review.html).toContain("<blockquote>Report: tell me about owls");
    await h.recorded(review);
    fake.press({ chatId: ALICE, messageId: review.message_id, label: "Edit" });

    // Edit asks for the corrected text as the next message, with a ForceReply prompt.
    const prompt = await h.botMessage((m) => m.text === "Send the corrected text as your next message.");
    const promptCall = fake.callsOf("sendMessage").find((c) => c.params.text === "Send the corrected text as your next message.");
    expect(promptCall?.params.reply_markup).toMatchObject({ force_reply: true });
    h.say("Owls: <b>silent</b> hunters & more", { replyTo: prompt });

    const feedback = await h.botMessage((m) => m.text.startsWith("Thanks. Any feedback"));
    expect(feedback.html).toContain("<code>skip</code>");
    h.say("skip", { replyTo: feedback });

    // The result: the corrected text, escaped, and the links as HTML anchors.
    const result = await h.botMessage((m) => m.text.startsWith("Owls: <b>silent</b> hunters & more"));
    expect(result.html).toContain("Owls: &lt;b&gt;silent&lt;/b&gt; hunters &amp; more");
    expect(result.html).toContain('<a href="https://en.wikipedia.org/wiki/Special:Search?search=tell%20me%20about%20owls">Wikipedia: tell me about owls</a>');
    expect(result.html).toContain('<a href="https://openlibrary.org/search?q=tell%20me%20about%20owls">Open Library: tell me about owls</a>');

    // The status message ends on the final state, and was edited with progress on the way.
    await fake.waitUntil(() => fake.message(ALICE, status.message_id)?.text.startsWith("Done · demo"));
    const statusTexts = fake.callsOf("editMessageText").filter((c) => c.params.message_id === status.message_id).map((c) => String(c.params.text));
    expect(statusTexts.some((text) => /▓+░*\s\d+%/.test(text))).toBe(true);
    expect(statusTexts.at(-1)).toBe("<b>Done · demo</b>");
    expect(fake.botMessages(ALICE).filter((m) => m.text.includes("· demo"))).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it("/cancel during a task cancels it: a reply, and the status message says so", async () => {
    const h = await bot({ config: { workflows: { demo: { stepDelayMs: 5000 } } } });
    h.say("a short summary of owls");
    const status = await h.botMessage((m) => m.text.startsWith("Working · demo"));
    h.say("/cancel");
    await h.botMessage((m) => m.text === "Cancelled.");
    await h.fake.waitUntil(() => h.fake.message(ALICE, status.message_id)?.text.startsWith("Cancelled · demo"));
    await h.waitForTask((task) => task.status === "cancelled");
    expect(h.fake.violations).toEqual([]);
  });

  it("registers the engine's commands (built-ins, /schedule, the routed workflows) with setMyCommands", async () => {
    const h = await bot();
    expect(h.fake.commands.map((c) => c.command)).toEqual(["help", "new", "cancel", "status", "history", "tasks", "schedule", "demo", "ask"]);
    expect(h.fake.commands.find((c) => c.command === "demo")?.description).toMatch(/^[A-Z]/);
    // /start (a person opening the bot) shows the help.
    h.say("/start");
    await h.botMessage((m) => m.text.startsWith("Send a message to start a task"));
  });
});

describe("telegram bot: shared chats", () => {
  const GROUP = -100_555;
  const STARTER = 2002;
  const BYSTANDER = 3003;

  it("a press by someone else is refused with an alert only they see; the group sees nothing; the starter's press counts", async () => {
    const h = await bot();
    const { fake } = h;
    h.say(`@${fake.bot.username} tell me about owls`, { chatId: GROUP, userId: STARTER });
    const question = await h.botMessage((m) => m.text === "Which kind of answer do you want?", GROUP);
    await h.recorded(question);
    // The group's messages, by id: a status edit still in flight may change a text, not the list.
    const shown = () => fake.messages(GROUP).map((m) => m.message_id);
    const before = shown();

    const refused = fake.press({ chatId: GROUP, userId: BYSTANDER, messageId: question.message_id, label: "Detailed report" });
    await fake.waitUntil(() => fake.answered(refused));
    expect(fake.noticesFor(BYSTANDER)).toEqual([{ text: expect.stringMatching(/^Sorry, only the person who started this task, or a reviewer/), alert: true }]);
    expect(shown()).toEqual(before);
    expect(fake.messages(GROUP).some((m) => /only the person who started/.test(m.text))).toBe(false);
    expect(keyboardOf(fake.message(GROUP, question.message_id)).flat()).toContain("Detailed report");

    const taken = fake.press({ chatId: GROUP, userId: STARTER, messageId: question.message_id, label: "Detailed report" });
    await fake.waitUntil(() => fake.answered(taken) && fake.message(GROUP, question.message_id)?.text.endsWith("→ Detailed report"));
    expect(fake.noticesFor(STARTER)).toEqual([]);
  });

  it("/cancel from someone else in a group is refused in the group (Telegram has no private reply to a typed command)", async () => {
    const h = await bot();
    const { fake } = h;
    h.say(`@${fake.bot.username} tell me about owls`, { chatId: GROUP, userId: STARTER });
    await h.botMessage((m) => m.text === "Which kind of answer do you want?", GROUP);
    h.say("/cancel", { chatId: GROUP, userId: BYSTANDER });
    await h.botMessage((m) => /only the person who started this task/.test(m.text), GROUP);
    expect((await h.waitForTask(() => true)).status).toBe("waiting");
  });
});

describe("telegram bot: rate limits and faults", () => {
  it("a 429 storm: the bot waits retry_after and every reply still arrives, once and in order", async () => {
    const h = await bot();
    const { fake } = h;
    fake.fail({ method: "sendMessage", failure: { kind: "rate-limit", retryAfter: 1 }, forMs: 500 });
    for (const command of ["/help", "/status", "/tasks", "/history"]) h.say(command);
    await h.botMessage((m) => m.text === "No messages in this session yet." || m.text.includes("you: /help"), ALICE, 8000);
    const limited = fake.callsOf("sendMessage", { all: true }).filter((c) => c.status === 429);
    const delivered = fake.callsOf("sendMessage");
    expect(limited.length).toBeGreaterThan(0);
    // Nothing went out before retry_after passed.
    expect(delivered[0]!.at - limited[0]!.at).toBeGreaterThanOrEqual(950);
    expect(delivered.map((c) => String(c.params.text).split("\n", 1)[0])).toEqual([
      "Send a message to start a task, or use a command:",
      "No task is running.",
      "You have no recent tasks.",
      expect.stringMatching(/you: \/help/),
    ]);
    expect(fake.violations).toEqual([]);
  });

  it("a dropped long poll and a 5xx on a send: retried, nothing lost", async () => {
    const h = await bot();
    const { fake } = h;
    await fake.waitUntil(() => fake.dropHeldPolls() > 0, 2000, "a held poll to drop");
    h.say("/status");
    fake.fail({ method: "sendMessage", failure: { kind: "server-error", status: 502 }, match: (p) => p.chat_id === 2002 });
    const post = h.adapter.send({ platform: "telegram", channel: "2002", user: "scheduler" }, { kind: "notice", text: "posted despite a 502" });
    await h.botMessage((m) => m.text === "No task is running.", ALICE, 10_000);
    await post;
    expect(fake.botMessages(2002).map((m) => m.text)).toEqual(["posted despite a 502"]);
    expect(fake.callsOf("sendMessage", { all: true }).filter((c) => c.params.chat_id === 2002).map((c) => c.status)).toEqual([502, 200]);
  });
});

describe("telegram bot: progress", () => {
  it("edits the status message at most once per editIntervalMs under a storm of progress updates, ending on the final state", async () => {
    const storm = defineWorkflow({
      name: "storm",
      async run(ctx) {
        const until = Date.now() + 1500;
        for (let i = 0; Date.now() < until; i++) {
          await ctx.progress(Math.min(99, i / 10), `step ${i}`);
          await sleep(1);
        }
        return { text: "storm over" };
      },
    });
    const intervalMs = 250;
    const h = await bot({ workflows: [storm], config: { routes: { default: { message: "storm" } } }, adapter: { editIntervalMs: intervalMs } });
    h.say("go");
    await h.botMessage((m) => m.text === "storm over", ALICE, 8000);
    const status = h.fake.botMessages(ALICE).find((m) => m.text.includes("· storm"))!;
    await h.fake.waitUntil(() => h.fake.message(ALICE, status.message_id)?.text.startsWith("Done · storm"));
    const times = [
      h.fake.callsOf("sendMessage").find((c) => String(c.params.text).includes("· storm"))!.at,
      ...h.fake.callsOf("editMessageText").filter((c) => c.params.message_id === status.message_id).map((c) => c.at),
    ];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    // Never faster than the configured rate on average; arrival times jitter a little around
    // the engine's pacing (a slow request followed by a fast one), never into a burst.
    const mean = (times.at(-1)! - times[0]!) / gaps.length;
    expect(mean).toBeGreaterThanOrEqual(intervalMs - 10);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(intervalMs * 0.6);
  });
});
