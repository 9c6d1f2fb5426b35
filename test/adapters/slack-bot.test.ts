import { afterEach, describe, expect, it } from "vitest";
import { ALICE, ALICE_DM, BOB, buttonsOf, CHANNEL, shown, startSlackBot } from "./slack-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

// The whole engine (createBot, memory store, demo workflow) on the real Bolt-based adapter in
// Socket Mode, against the fake Slack; assertions are on what the fake recorded.
const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function bot(options: Parameters<typeof startSlackBot>[0] = {}) {
  const h = await startSlackBot(options);
  cleanup.add(async () => {
    try {
      // Every call conforms to the Web API spec and Block Kit's limits; every envelope was acked in time.
      expect(h.fake.violations).toEqual([]);
      expect(h.fake.acks.filter((a) => a.latencyMs > 3000)).toEqual([]);
    } finally {
      await h.stop();
    }
  });
  return h;
}

describe("slack bot: a demo in a channel thread", () => {
  it("a mention (delivered twice) starts one task in its thread; buttons, the review's Edit modal, the result", async () => {
    const h = await bot();
    const { fake } = h;
    const { ts: thread, eventIds } = fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> tell me about owls` });
    expect(eventIds).toHaveLength(2);
    const where = { channel: CHANNEL, threadTs: thread };

    // One status message in the thread, updated in place.
    const status = await h.botMessage((text) => /^\*(Queued|Working) · demo\*/.test(text), where);
    const question = await h.botMessage((text) => text === "Which kind of answer do you want?", where);
    expect(buttonsOf(fake.message(CHANNEL, question.ts))).toEqual(["Short summary", "Detailed report", "Cancel task"]);
    await h.recorded(question.ts);
    fake.press({ channel: CHANNEL, ts: question.ts, label: "Detailed report", user: ALICE });
    await fake.waitUntil(() => shown(fake.message(CHANNEL, question.ts)).endsWith("→ Detailed report"), 5000, "the answer shown");
    expect(buttonsOf(fake.message(CHANNEL, question.ts))).toEqual([]);

    // The review: the draft quoted, Edit opens a modal with it; the corrected text is the answer.
    const review = await h.botMessage((text, buttons) => text.startsWith("Publish this draft?") && buttons.includes("Edit"), where);
    expect(review.text).toContain(">Report: tell me about owls");
    await h.recorded(review.ts);
    const opened = fake.views.size;
    fake.press({ channel: CHANNEL, ts: review.ts, label: "Edit", user: ALICE });
    const modal = await fake.waitUntil(() => [...fake.views.values()][opened], 5000, "the Edit modal");
    expect(JSON.stringify(modal.view)).toContain("Report: tell me about owls");
    fake.submitView({ viewId: modal.id, user: ALICE, values: { draft: "Owls hunt at night.", feedback: "shorter is better" } });

    const result = await h.botMessage((text) => text.startsWith("Owls hunt at night."), where);
    expect(result.text).toContain("Noted your feedback: shorter is better");
    expect(result.text).toContain("<https://en.wikipedia.org/wiki/Special:Search?search=tell%20me%20about%20owls|Wikipedia: tell me about owls>");
    await fake.waitUntil(() => shown(fake.message(CHANNEL, status.ts)).startsWith("*Done · demo*"), 5000, "the final status");
    // One task, one status message, posted once, in the thread; nothing at the channel's top level but the mention.
    expect((await h.store.listTasks()).items).toHaveLength(1);
    expect(fake.botMessages(CHANNEL).filter((m) => m.threadTs !== thread)).toEqual([]);
    expect(fake.botMessages(CHANNEL, { threadTs: thread }).filter((m) => /· demo\*/.test(shown(m)))).toHaveLength(1);
  });

  it("a free-text question is answered by the next message in the thread, without a mention", async () => {
    const h = await bot();
    const { fake } = h;
    const { ts: thread } = fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> /demo` });
    const where = { channel: CHANNEL, threadTs: thread };
    await h.botMessage((text) => text.startsWith("What should I write about?"), where);
    fake.userMessage({ channel: CHANNEL, user: ALICE, text: "a short summary of bats", threadTs: thread });
    await h.botMessage((text) => text.startsWith("Publish this draft?"), where);
    // Other threads and the channel are not the bot's business.
    fake.userMessage({ channel: CHANNEL, user: BOB, text: "lunch?" });
    expect((await h.store.listTasks()).items).toHaveLength(1);
  });

  it("a stranger's press is refused ephemerally; the question stays; the starter's counts", async () => {
    const h = await bot();
    const { fake } = h;
    const { ts: thread } = fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> tell me about owls` });
    const question = await h.botMessage((text) => text === "Which kind of answer do you want?", { channel: CHANNEL, threadTs: thread });
    await h.recorded(question.ts);
    const before = fake.messages(CHANNEL, { threadTs: thread }).length;
    fake.press({ channel: CHANNEL, ts: question.ts, label: "Short summary", user: BOB });
    await fake.waitUntil(() => fake.ephemerals(BOB).length > 0, 5000, "the refusal");
    expect(fake.ephemerals(BOB).map((e) => e.text)).toEqual([expect.stringMatching(/^Sorry, only the person who started this task, or a reviewer/)]);
    expect(fake.ephemerals(ALICE)).toEqual([]);
    expect(fake.messages(CHANNEL, { threadTs: thread }).length).toBe(before);
    expect(buttonsOf(fake.message(CHANNEL, question.ts))).toContain("Short summary");
    fake.press({ channel: CHANNEL, ts: question.ts, label: "Short summary", user: ALICE });
    await fake.waitUntil(() => shown(fake.message(CHANNEL, question.ts)).endsWith("→ Short summary"), 5000, "the answer");
  });

  it("a press on a button whose task is gone is acknowledged and answered 'expired', only to the presser", async () => {
    const h = await bot();
    const { fake } = h;
    const sent = await h.adapter.send({ platform: "slack", channel: ALICE_DM, user: ALICE }, {
      kind: "question",
      text: "An old question",
      actions: [{ id: "cf:t-gone:tok:0", label: "Yes", role: "choice" }],
    });
    const pressed = fake.press({ channel: ALICE_DM, ts: sent.id, label: "Yes", user: ALICE });
    await fake.waitForAck(pressed.envelopeId);
    await fake.waitUntil(() => fake.ephemerals(ALICE).some((e) => /expired/.test(e.text)), 5000, "the expired notice");
  });
});

describe("slack bot: commands", () => {
  it("/chatflow carries the engine's commands; /demo starts a task in a thread of its own", async () => {
    const h = await bot();
    const { fake } = h;
    const help = fake.slashCommand({ command: "/chatflow", text: "help", user: ALICE, channel: ALICE_DM });
    await fake.waitForAck(help.envelopeId);
    // A slash command's answer is the person's alone (tested in a channel in slack-private-replies.test.ts).
    await fake.waitUntil(() => fake.ephemerals(ALICE, ALICE_DM).find((e) => shown(e).startsWith("Send a message to start a task")), 5000, "the help");

    fake.slashCommand({ command: "/demo", text: "tell me about owls", user: ALICE, channel: CHANNEL });
    const root = await h.botMessage((text) => text === "Request: /demo tell me about owls", { channel: CHANNEL });
    await h.botMessage((text) => text === "Which kind of answer do you want?", { channel: CHANNEL, threadTs: root.ts });

    // /chatflow cancel in a thread: mention the bot with the command.
    fake.userMessage({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> /cancel`, threadTs: root.ts });
    await h.botMessage((text) => text === "Cancelled.", { channel: CHANNEL, threadTs: root.ts });
    expect((await h.store.listTasks()).items[0]?.status).toBe("cancelled");
  });

  it("an unknown command gets a hint only its typist sees; a retried envelope is processed once", async () => {
    const h = await bot();
    const { fake } = h;
    fake.slashCommand({ command: "/chatflow", text: "frobnicate", user: ALICE, channel: ALICE_DM });
    await fake.waitUntil(() => fake.ephemerals(ALICE, ALICE_DM).find((e) => shown(e).startsWith("Unknown command /frobnicate")), 5000, "the hint");
    expect(fake.botMessages(ALICE_DM)).toEqual([]);
    const { ts } = fake.userMessage({ channel: ALICE_DM, user: ALICE, text: "/status" });
    await h.botMessage((text) => text.startsWith("No task is running"), { channel: ALICE_DM });
    // Slack delivers the same event again (a retry: same event_id, same message).
    const again = fake.sendEnvelope("events_api", fake.envelopes.find((e) => (e.payload as { event?: { ts?: string } }).event?.ts === ts)!.payload);
    await fake.waitForAck(again.envelope_id);
    // A later message is answered; by then the repeat was long handled, and answered nothing.
    fake.userMessage({ channel: ALICE_DM, user: ALICE, text: "/help" });
    await h.botMessage((text) => text.startsWith("Send a message to start a task"), { channel: ALICE_DM });
    expect(fake.botMessages(ALICE_DM).filter((m) => shown(m).startsWith("No task is running"))).toHaveLength(1);
  });
});
