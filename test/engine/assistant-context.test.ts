import { describe, expect, it } from "vitest";
import type { Message } from "../../src/model.ts";
import { conversationFor } from "../../src/agents/conversation.ts";

let n = 0;
const msg = (role: Message["role"], source: Message["source"], text: string): Message => ({ id: `m${++n}`, sessionId: "s", role, source, text, at: n });

describe("the conversation the model sees", () => {
  it("keeps roles: the person as user, answers and scheduled posts as assistant; commands left out; same-role turns merged", () => {
    const history = [
      msg("user", "user", "hi"),
      msg("assistant", "workflow", "Hello! How can I help?"),
      msg("user", "command", "/status"),
      msg("assistant", "scheduled", "Reminder: stand-up at 9"),
      msg("user", "user", "what is the capital of France?"),
      msg("user", "user", "and of Italy?"),
    ];
    expect(conversationFor(history, "Be brief.", 8000)).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "hi" },
      { role: "assistant", content: "Hello! How can I help?\n\nReminder: stand-up at 9" },
      { role: "user", content: "what is the capital of France?\n\nand of Italy?" },
    ]);
  });

  it("cuts the oldest turns to fit the budget, keeps the newest message, and starts with the person", () => {
    const history = [msg("user", "user", "a".repeat(4000)), msg("assistant", "workflow", "b".repeat(400)), msg("user", "user", "newest question")];
    const cut = conversationFor(history, "sys", 200);
    expect(cut.map((m) => m.role)).toEqual(["system", "user"]);
    expect(cut.at(-1)).toEqual({ role: "user", content: "newest question" });
    // The newest message stays even when it alone is over the budget.
    expect(conversationFor([msg("user", "user", "x".repeat(10_000))], "sys", 50)).toHaveLength(2);
  });
});
