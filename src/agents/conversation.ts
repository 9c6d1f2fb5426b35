import type { ModelMessage } from "ai";
import type { Message } from "../model.ts";

/** A rough token count for budgeting: about four characters a token, plus a few per message. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + 4;
}

/**
 * The conversation as the model sees it: the system prompt, then the session's history with
 * roles kept (the person's messages as `user`; the bot's answers and scheduled posts as
 * `assistant`; commands left out), cut from the oldest end to fit `maxTokens` (the system
 * prompt and the newest message always stay). Consecutive messages of one role are merged, as
 * some OpenAI-compatible servers refuse two user turns in a row.
 */
export function conversationFor(history: readonly Message[], systemPrompt: string, maxTokens: number): ModelMessage[] {
  const turns: Array<{ role: "user" | "assistant"; content: string }> = [];
  for (const message of history) {
    if (message.source === "command" || message.text.trim() === "") continue;
    const role = message.role === "user" ? "user" : "assistant";
    const last = turns.at(-1);
    if (last?.role === role) last.content = `${last.content}\n\n${message.text}`;
    else turns.push({ role, content: message.text });
  }
  let budget = maxTokens - estimateTokens(systemPrompt);
  const kept: typeof turns = [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const cost = estimateTokens(turns[i]!.content);
    if (kept.length > 0 && cost > budget) break;
    kept.unshift(turns[i]!);
    budget -= cost;
  }
  // A conversation the model can answer starts with the person.
  while (kept.length > 1 && kept[0]!.role === "assistant") kept.shift();
  return [{ role: "system", content: systemPrompt }, ...kept];
}
