import { afterEach, describe, expect, it } from "vitest";
import { buttonsOf, shown, startDiscordBot, type DiscordBotHarness } from "./discord-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

// A form (a review's Edit, a free-text Answer) left open while its question is answered or its
// task ends: submitting it later is answered at once, privately, and changes nothing. Without
// that answer within 3 s Discord shows "This interaction failed".
const cleanup = cleanupList();
afterEach(() => cleanup.run());

const EXPIRED = "This form has expired: the task it belonged to is no longer waiting for it.";

async function bot(): Promise<DiscordBotHarness> {
  const h = await startDiscordBot();
  cleanup.add(async () => {
    try {
      expect(h.fake.violations).toEqual([]);
      expect(h.fake.failedInteractions).toEqual([]);
    } finally {
      await h.stop();
    }
  });
  return h;
}

/** Alice's /demo up to its review, with the Edit form open on her screen; resolves with the review and the form's interaction. */
async function editFormOpen(h: DiscordBotHarness) {
  const { fake } = h;
  fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "a short summary of owls" } });
  const review = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Publish this draft?")), 5000, "the review");
  await h.recorded(review.id);
  const edit = fake.press({ user: fake.alice.id, messageId: review.id, label: "Edit" });
  await fake.waitUntil(() => fake.modals.find((m) => m.interactionId === edit.interactionId), 5000, "the Edit form");
  return { review, form: edit.interactionId };
}

/** Alice's /demo without a request: its free-text question, with the Answer form open on her screen. */
async function answerFormOpen(h: DiscordBotHarness) {
  const { fake } = h;
  fake.slashCommand({ name: "demo", user: fake.alice.id, options: {} });
  const question = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "What should I write about?"), 5000, "the free-text question");
  await h.recorded(question.id);
  const answer = fake.press({ user: fake.alice.id, messageId: question.id, label: "Answer" });
  await fake.waitUntil(() => fake.modals.find((m) => m.interactionId === answer.interactionId), 5000, "the Answer form");
  return { question, form: answer.interactionId };
}

/** Submits a form and resolves with what its sender was told, checking it was the submission's own answer: ephemeral, at once. */
async function submitStale(h: DiscordBotHarness, form: string, values: Record<string, string>): Promise<string> {
  const { fake } = h;
  const { interactionId } = fake.submitModal({ interaction: form, values });
  const [callback] = await fake.waitUntil(() => (fake.callbacks(interactionId).length > 0 ? fake.callbacks(interactionId) : undefined), 5000, "the submission's answer");
  expect(callback).toMatchObject({ type: 4, status: 204, data: { flags: 64 } });
  expect(callback!.sinceDispatchMs).toBeLessThan(3000);
  expect(fake.originalOf(interactionId)?.ephemeralTo).toBe(fake.alice.id);
  return shown(fake.originalOf(interactionId));
}

describe("discord: a form nobody waits for any more", () => {
  it("an Edit form left open while the review was approved: 'this form has expired', to its sender alone; the approved draft stands", async () => {
    const h = await bot();
    const { fake } = h;
    const { review, form } = await editFormOpen(h);
    fake.press({ user: fake.alice.id, messageId: review.id, label: "Approve" });
    const result = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.includes("the essentials in three points")), 5000, "the result");
    expect(await submitStale(h, form, { draft: "A draft nobody asked for" })).toBe(EXPIRED);
    expect(fake.messages(fake.channel.id).map((m) => m.content).join("\n")).not.toContain("A draft nobody asked for");
    expect(fake.message(result.id)?.content).toBe(result.content);
  });

  it("an Edit form left open while the task was cancelled (its buttons still showing): expired, and nothing is published", async () => {
    const h = await bot();
    const { fake } = h;
    const { review, form } = await editFormOpen(h);
    const cancel = fake.slashCommand({ name: "cancel", user: fake.alice.id });
    await fake.waitUntil(() => shown(fake.originalOf(cancel.interactionId)) === "Cancelled.", 5000, "the cancel");
    expect(buttonsOf(fake.message(review.id))).toContain("Edit");
    expect(await submitStale(h, form, { draft: "Too late" })).toBe(EXPIRED);
    expect((await h.store.listTasks()).items.map((t) => t.status)).toEqual(["cancelled"]);
  });

  it("an Answer form left open while the question was answered by a message: expired (its button is gone), and its text answers nothing", async () => {
    const h = await bot();
    const { fake } = h;
    const { question, form } = await answerFormOpen(h);
    // Answered by a message that mentions the bot: the question's Answer button goes.
    fake.userMessage({ user: fake.alice.id, content: `<@${fake.bot.id}> a short summary of bats` });
    await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Publish this draft?")), 5000, "the review after the answer");
    expect(buttonsOf(fake.message(question.id))).toEqual([]);
    expect(await submitStale(h, form, { answer: "frogs" })).toBe(EXPIRED);
    expect(fake.messages(fake.channel.id).map((m) => m.content).join("\n")).not.toContain("frogs");
  });

  it("an Answer form left open while the task was cancelled (its button still showing): expired, and no new task starts from its text", async () => {
    const h = await bot();
    const { fake } = h;
    const { question, form } = await answerFormOpen(h);
    const cancel = fake.slashCommand({ name: "cancel", user: fake.alice.id });
    await fake.waitUntil(() => shown(fake.originalOf(cancel.interactionId)) === "Cancelled.", 5000, "the cancel");
    expect(buttonsOf(fake.message(question.id))).toEqual(["Answer"]);
    expect(await submitStale(h, form, { answer: "toads" })).toBe(EXPIRED);
    expect((await h.store.listTasks()).items.map((t) => t.status)).toEqual(["cancelled"]);
  });
});
