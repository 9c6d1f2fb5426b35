import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent, scriptedModel, tool } from "../../src/index.ts";
import { ALICE, cleanupList, keyboardOf, startTelegramBot } from "./telegram-setup.ts";

/** An agent's tool approval on Telegram: the review card with the tool's input, corrected by Edit, then run once. */
const cleanup = cleanupList();
afterEach(() => cleanup.run());

it("a tool that needs approval shows a review card with its input; Edit corrects the input; the tool runs once with it", async () => {
  const refunds: number[] = [];
  const { model, calls } = scriptedModel([{ toolCalls: [{ name: "refund", input: { amount: 30 } }] }, "Refunded 25."]);
  const agent = defineAgent({
    name: "refunds",
    model,
    tools: {
      refund: tool({
        description: "Refunds an amount to the customer",
        inputSchema: z.object({ amount: z.number().positive() }),
        needsApproval: true,
        execute: async ({ amount }) => (refunds.push(amount), `refunded ${amount}`),
      }),
    },
  });
  const h = await startTelegramBot({ config: { routes: { default: { message: "refunds" } } }, workflows: [agent] });
  cleanup.add(() => h.stop());
  const { fake } = h;
  h.say("please refund my order");

  const card = await h.botMessage((m) => m.text.startsWith("Allow refund?"));
  expect(card.text.split("\n")[0]).toBe("Allow refund? (Refunds an amount to the customer)");
  expect(keyboardOf(card)).toEqual([["Approve", "Reject", "Edit"]]);
  expect(card.html).toMatch(/<blockquote>\{\s*"amount": 30\s*\}<\/blockquote>/);
  await h.recorded(card);
  fake.press({ chatId: ALICE, messageId: card.message_id, label: "Edit" });
  const prompt = await h.botMessage((m) => m.text === "Send the corrected text as your next message.");
  h.say('{ "amount": 25 }', { replyTo: prompt });
  const feedback = await h.botMessage((m) => m.text.startsWith("Thanks. Any feedback"));
  h.say("skip", { replyTo: feedback });

  await h.botMessage((m) => m.text === "Refunded 25.");
  expect(refunds).toEqual([25]);
  expect(JSON.stringify(calls[1])).toContain("refunded 25");
  expect(fake.violations).toEqual([]);
});
