import { createTelegramAdapter, type TelegramAdapter, type TelegramAdapterOptions } from "../../adapters/telegram/index.ts";
import type { Bot } from "../../src/app.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Address } from "../../src/model.ts";
import type { Task } from "../../src/store/records.ts";
import type { Workflow } from "../../src/tasks/workflow.ts";
import { startBotOn, waitForRecorded } from "../helpers.ts";
import { startFakeTelegram, type FakeMessage, type FakeTelegram } from "../fakes/telegram/server.ts";

/** No pacing between calls: tests check behaviour, not Telegram's limits (the bench does). */
export const FAST_THROTTLE = { globalPerSecond: 10_000, perChatIntervalMs: 0, groupPerMinute: 10_000 } as const;

/** A private chat with user 1001 (private chat id = user id on Telegram). */
export const ALICE = 1001;
export const aliceAddress: Address = { platform: "telegram", channel: String(ALICE), user: String(ALICE), direct: true };

/** Stops everything a test started, in reverse order. */
export function cleanupList(): { add(fn: () => Promise<unknown>): void; run(): Promise<void> } {
  const fns: Array<() => Promise<unknown>> = [];
  return {
    add: (fn) => void fns.push(fn),
    /** Runs every step even when one fails, then throws the first failure. */
    async run() {
      let failure: unknown;
      for (const fn of fns.splice(0).reverse()) {
        try {
          await fn();
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== undefined) throw failure;
    },
  };
}

/** The adapter with test-friendly settings, pointed at the fake. */
export function telegramAdapterFor(fake: FakeTelegram, options: Partial<TelegramAdapterOptions> = {}): TelegramAdapter {
  return createTelegramAdapter({ token: fake.token, apiRoot: fake.apiRoot, throttle: FAST_THROTTLE, editIntervalMs: 50, logger: silentLogger(), ...options });
}

export interface TelegramBotHarness {
  fake: FakeTelegram;
  adapter: TelegramAdapter;
  bot: Bot;
  /** Alice writes in her private chat. */
  say(text: string, options?: { chatId?: number; userId?: number; replyTo?: FakeMessage }): void;
  /** The first bot message in the chat matching `match`, waiting for it. */
  botMessage(match: (m: FakeMessage) => boolean, chatId?: number, timeoutMs?: number): Promise<FakeMessage>;
  waitForTask(predicate: (task: Task) => boolean, timeoutMs?: number): Promise<Task>;
  /**
   * Waits until the engine stored the message's id (its outbox): a person can't press a
   * button within milliseconds of it appearing, a test can, and the engine only marks a
   * question answered once it knows the question's message.
   */
  recorded(message: FakeMessage): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A whole chatflow bot (engine, memory store, demo workflow) on the Telegram adapter,
 * against a fresh fake Bot API server.
 */
export async function startTelegramBot(
  options: { config?: ConfigInput; workflows?: Workflow<any>[]; adapter?: Partial<TelegramAdapterOptions>; env?: NodeJS.ProcessEnv } = {},
): Promise<TelegramBotHarness> {
  const fake = await startFakeTelegram();
  const adapter = telegramAdapterFor(fake, options.adapter);
  const { bot, store } = await startBotOn(adapter, options);
  return {
    fake,
    adapter,
    bot,
    say(text, { chatId = ALICE, userId, replyTo } = {}) {
      const reply = replyTo ? { replyTo: { message_id: replyTo.message_id, from: fake.bot, chat: { id: chatId, type: chatId > 0 ? "private" : "supergroup", ...(chatId > 0 ? { first_name: "x" } : { title: "g" }) }, date: replyTo.date, text: replyTo.text } } : {};
      fake.userMessage({ chatId, text, ...(userId !== undefined ? { userId } : {}), ...reply });
    },
    botMessage: (match, chatId = ALICE, timeoutMs = 5000) => fake.waitUntil(() => fake.botMessages(chatId).find(match), timeoutMs, "a bot message"),
    async waitForTask(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = (await store.listTasks({}, { limit: 100 })).items.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error("No task matched in time.");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    recorded: (message) => waitForRecorded(store, String(message.message_id)),
    async stop() {
      await bot.stop();
      await fake.close();
    },
  };
}

/** The labels of a message's inline keyboard, row by row. */
export function keyboardOf(message: FakeMessage | undefined): string[][] {
  const rows = (message?.reply_markup?.inline_keyboard ?? []) as Array<Array<{ text: string }>>;
  return rows.map((row) => row.map((button) => button.text));
}
