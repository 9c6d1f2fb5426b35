import type { LanguageModel } from "ai";

/** One reply of a scripted model: text (streamed in words), or tool calls (with their input). */
export type ScriptedTurn = string | { text?: string; toolCalls: Array<{ name: string; input: unknown; id?: string }> };

/** A scripted model: its replies in order, and what it was asked each time (the prompt as the SDK sends it). */
export interface ScriptedModel {
  model: LanguageModel;
  /** The prompts it received, in order. */
  readonly calls: unknown[][];
}

const USAGE = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

/**
 * A language model (the AI SDK's v3 interface) that answers from a script, for testing an agent
 * without a server: `defineAgent({ model: scriptedModel(["Hello."]).model, ... })`. Each call
 * takes the next turn; past the end it throws, naming the call.
 */
export function scriptedModel(turns: ScriptedTurn[]): ScriptedModel {
  const calls: unknown[][] = [];
  let next = 0;
  let ids = 0;
  const model = {
    specificationVersion: "v3" as const,
    provider: "chatflow-scripted",
    modelId: "scripted",
    supportedUrls: {},
    async doGenerate(): Promise<never> {
      throw new Error("The scripted model streams only (agents stream their answers).");
    },
    async doStream(options: { prompt: unknown[] }) {
      calls.push(options.prompt);
      const turn = turns[next++];
      if (turn === undefined) throw new Error(`The scripted model has no reply for call ${next} (the script has ${turns.length}).`);
      const { text, toolCalls } = typeof turn === "string" ? { text: turn, toolCalls: [] } : { text: turn.text, toolCalls: turn.toolCalls };
      const parts: unknown[] = [{ type: "stream-start", warnings: [] }];
      if (text) {
        parts.push({ type: "text-start", id: "text" });
        for (const word of text.split(/(?<= )/)) parts.push({ type: "text-delta", id: "text", delta: word });
        parts.push({ type: "text-end", id: "text" });
      }
      for (const call of toolCalls) parts.push({ type: "tool-call", toolCallId: call.id ?? `scripted_${++ids}`, toolName: call.name, input: JSON.stringify(call.input ?? {}) });
      const reason = toolCalls.length > 0 ? "tool-calls" : "stop";
      parts.push({ type: "finish", finishReason: { unified: reason, raw: reason }, usage: USAGE });
      return {
        stream: new ReadableStream({
          start(controller) {
            for (const part of parts) controller.enqueue(part);
            controller.close();
          },
        }),
      };
    },
  };
  return { model: model as unknown as LanguageModel, calls };
}
