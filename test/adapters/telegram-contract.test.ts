import { expect } from "vitest";
import { startFakeTelegram } from "../fakes/telegram/server.ts";
import { adapterContract } from "./contract.ts";
import { ALICE, aliceAddress, keyboardOf, telegramAdapterFor } from "./telegram-setup.ts";

adapterContract("telegram (grammy against the fake Bot API)", async () => {
  const fake = await startFakeTelegram();
  const adapter = telegramAdapterFor(fake);
  const last = () => fake.botMessages(ALICE).at(-1);
  return {
    adapter,
    address: aliceAddress,
    deliverText: async (text) => void fake.userMessage({ chatId: ALICE, text }),
    deliverCommand: async (name, args) => void fake.userMessage({ chatId: ALICE, text: `/${name} ${args}` }),
    async pressAction(action) {
      const message = [...fake.botMessages(ALICE)].reverse().find((m) => keyboardOf(m).flat().includes(action.label));
      if (!message) throw new Error(`No message shows a button "${action.label}".`);
      fake.press({ chatId: ALICE, messageId: message.message_id, label: action.label });
    },
    lastSent: async () => ({ text: last()?.text ?? "", buttons: keyboardOf(last()).flat() }),
    transcript: async () => fake.botMessages(ALICE).map((m) => m.text).join("\n"),
    async cleanup() {
      await fake.close();
      // Every call the adapter made conforms to the Bot API spec.
      expect(fake.violations).toEqual([]);
    },
  };
});
