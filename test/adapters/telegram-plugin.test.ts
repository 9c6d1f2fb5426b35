import { Bot } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { createTelegramAdapter } from "../../adapters/telegram/index.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { startFakeTelegram, type FakeTelegram } from "../fakes/telegram/server.ts";
import { ALICE, cleanupList, FAST_THROTTLE, keyboardOf } from "./telegram-setup.ts";

/**
 * chatflow as a plugin in a grammY bot someone already runs: their handlers keep answering
 * what is theirs, chatflow takes its commands, its buttons, replies to its messages and the
 * chats it owns, and their bot's lifecycle stays theirs.
 */
const cleanup = cleanupList();
afterEach(() => cleanup.run());

const OWNED_GROUP = -100_321;

async function existingBotWithChatflow(fake: FakeTelegram) {
  // Their bot, as they already run it.
  const theirs = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
  // chatflow joins it first, so its middleware sees updates before their catch-all handlers.
  const adapter = createTelegramAdapter({ bot: theirs, owns: ({ chatId }) => chatId === OWNED_GROUP, throttle: FAST_THROTTLE, editIntervalMs: 50, logger: silentLogger() });
  theirs.command("ping", (ctx) => ctx.reply("pong"));
  theirs.command("start", (ctx) => ctx.reply("Welcome to my bot"));
  theirs.on("message:text", (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
  const chatflow = await createBot({ config: { workflows: { demo: { stepDelayMs: 5 } } }, store: createMemoryStore(), adapters: [adapter], logger: silentLogger() });
  await chatflow.start();
  cleanup.add(() => chatflow.stop());
  void theirs.start({ drop_pending_updates: false });
  cleanup.add(() => theirs.stop());
  await fake.waitUntil(() => fake.callsOf("getUpdates").length > 0, 5000, "their bot to poll");
  return { theirs, chatflow };
}

describe("telegram adapter as a plugin in an existing grammY bot", () => {
  it("both answer: their /ping, /start and chatter; chatflow's /demo, its buttons and its questions", async () => {
    const fake = await startFakeTelegram();
    cleanup.add(() => fake.close());
    await existingBotWithChatflow(fake);
    const texts = () => fake.botMessages(ALICE).map((m) => m.text);

    fake.userMessage({ chatId: ALICE, text: "/ping" });
    await fake.waitUntil(() => texts().includes("pong"), 5000, "their /ping");
    fake.userMessage({ chatId: ALICE, text: "/start" });
    await fake.waitUntil(() => texts().includes("Welcome to my bot"), 5000, "their /start");
    fake.userMessage({ chatId: ALICE, text: "hello there" });
    await fake.waitUntil(() => texts().includes("echo: hello there"), 5000, "their echo");

    // chatflow's command starts a task; its question's buttons come back to chatflow.
    fake.userMessage({ chatId: ALICE, text: "/demo owls" });
    const question = await fake.waitUntil(() => fake.botMessages(ALICE).find((m) => m.text === "Which kind of answer do you want?"), 5000, "chatflow's question");
    fake.press({ chatId: ALICE, messageId: question.message_id, label: "Short summary" });
    const review = await fake.waitUntil(() => fake.botMessages(ALICE).find((m) => m.text.startsWith("Publish this draft?")), 5000, "chatflow's review");
    // Edit asks for the corrected text as a reply: a reply to chatflow's message is chatflow's.
    fake.press({ chatId: ALICE, messageId: review.message_id, label: "Edit" });
    const prompt = await fake.waitUntil(() => fake.botMessages(ALICE).find((m) => m.text.startsWith("Send the corrected text")), 5000, "the edit prompt");
    fake.userMessage({ chatId: ALICE, text: "Owls hunt at night.", replyTo: { message_id: prompt.message_id, from: fake.bot, chat: { id: ALICE, type: "private", first_name: "x" }, date: prompt.date, text: prompt.text } });
    const feedback = await fake.waitUntil(() => fake.botMessages(ALICE).find((m) => m.text.startsWith("Thanks. Any feedback")), 5000, "the feedback prompt");
    fake.userMessage({ chatId: ALICE, text: "skip", replyTo: { message_id: feedback.message_id, from: fake.bot, chat: { id: ALICE, type: "private", first_name: "x" }, date: feedback.date, text: feedback.text } });
    await fake.waitUntil(() => texts().some((t) => t.startsWith("Owls hunt at night.")), 5000, "chatflow's result");

    // Neither answered the other's messages.
    expect(texts().filter((t) => t.startsWith("echo:"))).toEqual(["echo: hello there"]);
    expect(texts().some((t) => t.startsWith("Send a message to start a task"))).toBe(false);
    expect(keyboardOf(fake.message(ALICE, question.message_id))).toEqual([]);
    // chatflow left their command menu alone.
    expect(fake.callsOf("setMyCommands")).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("takes every message chatflow is addressed with in a chat it owns", async () => {
    const fake = await startFakeTelegram();
    cleanup.add(() => fake.close());
    await existingBotWithChatflow(fake);
    fake.userMessage({ chatId: OWNED_GROUP, userId: 2002, text: `@${fake.bot.username} tell me about owls` });
    await fake.waitUntil(() => fake.botMessages(OWNED_GROUP).find((m) => m.text === "Which kind of answer do you want?"), 5000, "chatflow's question in its group");
    expect(fake.botMessages(OWNED_GROUP).some((m) => m.text.startsWith("echo:"))).toBe(false);
  });

  it("stopping chatflow leaves their bot running and answering", async () => {
    const fake = await startFakeTelegram();
    cleanup.add(() => fake.close());
    const { theirs, chatflow } = await existingBotWithChatflow(fake);
    await chatflow.stop();
    expect(theirs.isRunning()).toBe(true);
    fake.userMessage({ chatId: ALICE, text: "/ping" });
    await fake.waitUntil(() => fake.botMessages(ALICE).some((m) => m.text === "pong"), 5000, "their /ping after chatflow stopped");
  });
});
