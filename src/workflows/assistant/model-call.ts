import { streamText, tool, type LanguageModel, type ModelMessage } from "ai";
import { z } from "zod";
import type { StreamedText } from "../../tasks/workflow.ts";
import type { Config } from "../../config/schema.ts";

/** The tools the model may call: both pause the task until the person answers. */
export const TOOLS = {
  ask_user: tool({
    description: "Ask the person a clarifying question when you can't answer without a detail they know. Offer choices when there are a few clear options.",
    inputSchema: z.object({ question: z.string().min(1), choices: z.array(z.string().min(1)).max(10).optional() }),
  }),
  request_review: tool({
    description: "Show the person a draft to approve, reject or correct before you go on with it.",
    inputSchema: z.object({ question: z.string().min(1), draft: z.string().min(1) }),
  }),
};

/** One tool call the model made, as journaled. */
export interface ToolCallRecord {
  id: string;
  name: string;
  input: unknown;
}

/** What one model call gave: its text (streamed into `out`) and the tool calls it made. */
export interface Turn {
  text: string;
  toolCalls: ToolCallRecord[];
  /** The stream ended before the model finished (the partial text is in `text`). */
  cutOff?: boolean;
}

/**
 * One model call over the AI SDK: streams the answer into `out` as it arrives and returns the
 * text and any tool calls (which the workflow turns into questions or reviews). The SDK
 * retries 429 and 5xx with backoff; `signal` aborts the request at once (/cancel).
 */
export async function callModel(options: { model: LanguageModel; llm: Config["llm"]; messages: ModelMessage[]; out: StreamedText; signal: AbortSignal }): Promise<Turn> {
  const { model, llm, messages, out, signal } = options;
  const timeout = AbortSignal.timeout(Math.round(llm.timeoutSeconds * 1000));
  const result = streamText({
    model,
    messages,
    tools: TOOLS,
    temperature: llm.temperature,
    maxOutputTokens: llm.maxTokens,
    abortSignal: AbortSignal.any([signal, timeout]),
    maxRetries: 2,
  });
  let text = "";
  const toolCalls: ToolCallRecord[] = [];
  for await (const part of result.fullStream) {
    if (part.type === "text-delta") {
      text += part.text;
      out.show(text);
    } else if (part.type === "tool-call") {
      toolCalls.push({ id: part.toolCallId, name: part.toolName, input: part.input });
    } else if (part.type === "error") {
      throw part.error;
    }
  }
  return { text, toolCalls };
}
