import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/store/memory.ts";
import { startFakeDiscord } from "../fakes/discord/server.ts";
import { startBotOn, waitForRecorded } from "../helpers.ts";
import { buttonsOf, discordAdapterFor, shown, startDiscordBot } from "./discord-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

// The whole engine on the real discord.js-based adapter against the fake Discord; assertions
// are on what the fake recorded.
const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function bot(options: Parameters<typeof startDiscordBot>[0] = {}) {
  const h = await startDiscordBot(options);
  cleanup.add(async () => {
    try {
      // Every call conforms to Discord's spec and limits; every interaction was answered in time, once.
      expect(h.fake.violations).toEqual([]);
    } finally {
      await h.stop();
    }
  });
  return h;
}

describe("discord bot: a demo from /demo", () => {
  it("registers the commands; /demo is deferred, its response is the status message; buttons, Edit in a modal, the result", async () => {
    const h = await bot();
    const { fake } = h;
    const guildCommands = fake.commands.guilds.get(fake.guild.id) ?? [];
    expect(guildCommands.map((c) => c.name)).toEqual(expect.arrayContaining(["help", "cancel", "status", "tasks", "history", "new", "schedule", "demo"]));

    const { interactionId } = fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "tell me about owls" } });
    // Deferred at once (type 5), then the original response shows the task's status.
    await fake.waitUntil(() => fake.callbacks(interactionId).length > 0, 5000, "the deferral");
    expect(fake.callbacks(interactionId).map((c) => c.type)).toEqual([5]);
    await fake.waitUntil(() => /^\*\*(Queued|Working|Waiting for your answer) · demo\*\*/.test(shown(fake.originalOf(interactionId))), 5000, "the status in the original response");
    const status = fake.originalOf(interactionId)!;

    const question = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "Which kind of answer do you want?"), 5000, "the question");
    expect(buttonsOf(question)).toEqual(["Short summary", "Detailed report", "Cancel task"]);
    await h.recorded(question.id);
    const press = fake.press({ user: fake.alice.id, messageId: question.id, label: "Detailed report" });
    await fake.waitUntil(() => fake.callbacks(press.interactionId).length > 0, 5000, "the press acknowledged");
    expect(fake.callbacks(press.interactionId)[0]!.type).toBe(6);
    await fake.waitUntil(() => fake.message(question.id)?.content.endsWith("→ Detailed report") && buttonsOf(fake.message(question.id)).length === 0, 5000, "the answer shown");

    const review = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Publish this draft?")), 5000, "the review");
    expect(shown(review)).toContain("Report: tell me about owls");
    await h.recorded(review.id);
    const edit = fake.press({ user: fake.alice.id, messageId: review.id, label: "Edit" });
    await fake.waitUntil(() => fake.modals.find((m) => m.interactionId === edit.interactionId), 5000, "the Edit modal");
    fake.submitModal({ interaction: edit.interactionId, values: { draft: "Owls hunt at night.", feedback: "shorter is better" } });

    const result = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Owls hunt at night.")), 5000, "the result");
    expect(result.content).toContain("Noted your feedback: shorter is better");
    await fake.waitUntil(() => shown(fake.message(status.id)).startsWith("**Done · demo**"), 5000, "the final status");
    expect((await h.store.listTasks()).items).toHaveLength(1);
  });

  it("a stranger's press is refused ephemerally and the message stays; /cancel by the starter cancels", async () => {
    const h = await bot();
    const { fake } = h;
    fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "tell me about owls" } });
    const question = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "Which kind of answer do you want?"), 5000, "the question");
    await h.recorded(question.id);
    fake.press({ user: fake.bob.id, messageId: question.id, label: "Short summary" });
    await fake.waitUntil(() => fake.ephemerals(fake.bob.id).length > 0, 5000, "the refusal");
    expect(fake.ephemerals(fake.bob.id).map((m) => m.content)).toEqual([expect.stringMatching(/^Sorry, only the person who started this task, or a reviewer/)]);
    expect(buttonsOf(fake.message(question.id))).toContain("Short summary");
    const cancel = fake.slashCommand({ name: "cancel", user: fake.alice.id });
    await fake.waitUntil(() => shown(fake.originalOf(cancel.interactionId)) === "Cancelled.", 5000, "the cancel answer");
    expect((await h.store.listTasks()).items[0]?.status).toBe("cancelled");
  });
});

describe("discord bot: beyond the 15-minute token", () => {
  it("a task that outlives its interaction token goes on in the channel: its status still ends done, nothing is lost", async () => {
    const h = await bot({ config: { workflows: { demo: { stepDelayMs: 150 } } } });
    const { fake } = h;
    const { interactionId } = fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "a short summary of owls" } });
    await fake.waitUntil(() => /· demo\*\*/.test(shown(fake.originalOf(interactionId))), 5000, "the status in the original response");
    // From now on the interaction's token is refused (50027), as after 15 minutes.
    fake.options.tokenLifetimeMs = 1;
    const review = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Publish this draft?")), 10_000, "the review");
    await h.recorded(review.id);
    fake.press({ user: fake.alice.id, messageId: review.id, label: "Approve" });
    await fake.waitUntil(() => fake.messages(fake.channel.id).some((m) => m.content.includes("the essentials in three points")), 10_000, "the result");
    // The last status the person sees (the original response edited through the channel, or a new message) says done.
    const statuses = fake.messages(fake.channel.id).filter((m) => /· demo\*\*/.test(shown(m)));
    await fake.waitUntil(() => fake.messages(fake.channel.id).filter((m) => /· demo\*\*/.test(shown(m))).at(-1)?.content.startsWith("**Done · demo**"), 10_000, "the final status");
    expect(statuses.length).toBeLessThanOrEqual(2);
    expect(fake.callsOf("PATCH /webhooks/:app/:token/messages/@original", { all: true }).some((c) => c.status === 401)).toBe(true);
  });
});

describe("discord bot: free-text answers and stale buttons", () => {
  it("a question without choices shows an Answer button whose modal answers it; a stale button is answered 'expired' privately", async () => {
    const h = await bot();
    const { fake } = h;
    fake.slashCommand({ name: "demo", user: fake.alice.id, options: {} });
    const question = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "What should I write about?"), 5000, "the free-text question");
    expect(buttonsOf(question)).toEqual(["Answer"]);
    await h.recorded(question.id);
    const answer = fake.press({ user: fake.alice.id, messageId: question.id, label: "Answer" });
    await fake.waitUntil(() => fake.modals.find((m) => m.interactionId === answer.interactionId), 5000, "the Answer modal");
    fake.submitModal({ interaction: answer.interactionId, values: { answer: "a short summary of bats" } });
    await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Publish this draft?")), 5000, "the review after the answer");

    const stale = await h.adapter.send({ platform: "discord", channel: fake.channel.id, user: fake.alice.id }, { kind: "question", text: "An old question", actions: [{ id: "cf:t-gone:tok:0", label: "Yes", role: "choice" }] });
    fake.press({ user: fake.bob.id, messageId: stale.id, label: "Yes" });
    await fake.waitUntil(() => fake.ephemerals(fake.bob.id).some((m) => /expired/.test(m.content)), 5000, "the expired notice");
  });
});

describe("discord bot: a channel closed to the bot", () => {
  it("after the token expired and the channel closed, the task goes on in a DM with the person: status, question, result", async () => {
    // Steps long enough that the channel closes before the question is posted.
    const h = await bot({ config: { workflows: { demo: { stepDelayMs: 1500 } } } });
    const { fake } = h;
    const { interactionId } = fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "tell me about owls" } });
    await fake.waitUntil(() => /· demo\*\*/.test(shown(fake.originalOf(interactionId))), 5000, "the status in the original response");
    fake.options.tokenLifetimeMs = 1;
    fake.missingAccess.add(fake.channel.id);
    const dm = fake.dmChannel(fake.alice.id);
    const question = await fake.waitUntil(() => fake.messages(dm.id).find((m) => m.content === "Which kind of answer do you want?"), 10_000, "the question in the DM");
    await fake.waitUntil(() => fake.messages(dm.id).some((m) => /· demo\*\*/.test(shown(m))), 10_000, "the status in the DM");
    fake.press({ user: fake.alice.id, messageId: question.id, label: "Short summary" });
    const review = await fake.waitUntil(() => fake.messages(dm.id).find((m) => m.content.startsWith("Publish this draft?")), 10_000, "the review in the DM");
    fake.press({ user: fake.alice.id, messageId: review.id, label: "Approve" });
    await fake.waitUntil(() => fake.messages(dm.id).some((m) => m.content.includes("the essentials in three points")), 15_000, "the result in the DM");
    await fake.waitUntil(() => fake.messages(dm.id).filter((m) => /· demo\*\*/.test(shown(m))).at(-1)?.content.startsWith("**Done · demo**"), 10_000, "the final status in the DM");
    // One status message in the DM, edited in place there.
    expect(fake.messages(dm.id).filter((m) => /· demo\*\*/.test(shown(m)))).toHaveLength(1);
  });
});

describe("discord bot: a review posted by another process", () => {
  it("its Edit form starts from the draft the engine holds (after a restart, or on an instance that did not post it)", async () => {
    const fake = await startFakeDiscord();
    const store = createMemoryStore();
    const first = await startBotOn(discordAdapterFor(fake), { store });
    cleanup.add(() => fake.close());
    fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "tell me about owls" } });
    const question = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "Which kind of answer do you want?"), 5000, "the question");
    await waitForRecorded(store, question.id);
    fake.press({ user: fake.alice.id, messageId: question.id, label: "Detailed report" });
    const review = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Publish this draft?")), 5000, "the review");
    await waitForRecorded(store, review.id);
    await first.bot.stop();

    // A process that never saw the review post: the draft comes from the engine.
    const second = await startBotOn(discordAdapterFor(fake), { store });
    cleanup.add(() => second.bot.stop());
    // Someone who may not decide it gets an empty form (their submission would be refused anyway).
    const stranger = fake.press({ user: fake.bob.id, messageId: review.id, label: "Edit" });
    const theirs = await fake.waitUntil(() => fake.modals.find((m) => m.interactionId === stranger.interactionId), 5000, "the stranger's Edit form");
    expect(JSON.stringify(theirs.components)).not.toContain("Report: tell me about owls");
    const edit = fake.press({ user: fake.alice.id, messageId: review.id, label: "Edit" });
    const form = await fake.waitUntil(() => fake.modals.find((m) => m.interactionId === edit.interactionId), 5000, "the Edit form");
    expect(JSON.stringify(form.components)).toContain("Report: tell me about owls");
    fake.submitModal({ interaction: edit.interactionId, values: { draft: "Owls hunt at night." } });
    await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Owls hunt at night.")), 5000, "the result");
    expect(fake.violations).toEqual([]);
  });
});
