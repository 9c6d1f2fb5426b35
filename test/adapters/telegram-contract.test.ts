import { expect } from "vitest";
import { startFakeTelegram } from "../fakes/telegram/server.ts";
import { adapterContract } from "./contract.ts";
import type { Action } from "../../src/model.ts";
import { ALICE, aliceAddress, keyboardOf, telegramAdapterFor } from "./telegram-setup.ts";

/** A supergroup with two people in it (the bot sees messages that mention it). */
const GROUP = -100_777;

adapterContract("telegram (grammy against the fake Bot API)", async () => {
  const fake = await startFakeTelegram();
  const adapter = telegramAdapterFor(fake);
  const last = () => fake.botMessages(ALICE).at(-1);
  const press = (chatId: number, userId: number, action: Action) => {
    const message = [...fake.botMessages(chatId)].reverse().find((m) => keyboardOf(m).flat().includes(action.label));
    if (!message) throw new Error(`No message shows a button "${action.label}".`);
    fake.press({ chatId, userId, messageId: message.message_id, label: action.label });
  };
  return {
    adapter,
    address: aliceAddress,
    deliverText: async (text) => void fake.userMessage({ chatId: ALICE, text }),
    deliverCommand: async (name, args) => void fake.userMessage({ chatId: ALICE, text: `/${name} ${args}` }),
    pressAction: async (action) => press(ALICE, ALICE, action),
    lastSent: async () => ({ text: last()?.text ?? "", buttons: keyboardOf(last()).flat() }),
    transcript: async () => fake.botMessages(ALICE).map((m) => m.text).join("\n"),
    privateNotices: async () => fake.noticesFor(ALICE).map((n) => n.text),
    shared: {
      users: ["2002", "3003"],
      address: (user) => ({ platform: "telegram", channel: String(GROUP), user }),
      deliverTextAs: async (user, text) => void fake.userMessage({ chatId: GROUP, userId: Number(user), text: `@${fake.bot.username} ${text}` }),
      pressActionAs: async (user, action) => press(GROUP, Number(user), action),
      transcript: async () => fake.messages(GROUP).map((m) => m.text).join("\n"),
      privateNotices: async (user) => fake.noticesFor(Number(user)).map((n) => n.text),
    },
    async cleanup() {
      await fake.close();
      // Every call the adapter made conforms to the Bot API spec.
      expect(fake.violations).toEqual([]);
    },
  };
});
