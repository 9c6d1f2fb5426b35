import { APICallError, RetryError, streamText, tool, type LanguageModel, type ModelMessage, type ToolSet } from "ai";
import { NonRetriableError } from "../errors.ts";
import { z } from "zod";
import type { StreamedText } from "../tasks/workflow.ts";

/** The tools every agent has unless turned off: both pause the task until the person answers. */
export const BUILT_IN_TOOLS = {
  ask_user: tool({
    description: "Ask the person a clarifying question when you can't answer without a detail they know. Offer choices when there are a few clear options.",
    inputSchema: z.object({ question: z.string().min(1), choices: z.array(z.string().min(1)).max(10).optional() }),
  }),
  request_review: tool({
    description: "Show the person a draft to approve, reject or correct before you go on with it.",
    inputSchema: z.object({ question: z.string().min(1), draft: z.string().min(1) }),
  }),
};

/** What a model call needs besides the model: the `llm:` settings (Config["llm"] has them). */
export interface ModelSettings {
  temperature?: number;
  maxTokens?: number;
  timeoutSeconds: number;
  /** Named in failures (a 404 says which model). */
  model?: string;
  baseURL?: string;
}

/** One tool call the model made, as journaled. */
export interface ToolCallRecord {
  id: string;
  name: string;
  input: unknown;
  /** Why the call can't be made (input that does not fit the tool's schema, a tool that does not exist), as the model will be told. */
  invalid?: string;
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
 * text and any tool calls (which the agent runs, or turns into questions or reviews). `tools`
 * go to the model without their `execute` (the SDK never runs them: the agent does, as
 * journaled steps). The SDK retries 429 and 5xx with backoff; `signal` aborts the request at
 * once (/cancel).
 */
export async function callModel(options: { model: LanguageModel; llm: ModelSettings; tools: ToolSet; messages: ModelMessage[]; out: StreamedText; signal: AbortSignal }): Promise<Turn> {
  const { model, llm, messages, out, signal } = options;
  const timeout = AbortSignal.timeout(Math.round(llm.timeoutSeconds * 1000));
  const result = streamText({
    model,
    messages,
    tools: describedOnly(options.tools),
    temperature: llm.temperature,
    maxOutputTokens: llm.maxTokens,
    abortSignal: AbortSignal.any([signal, timeout]),
    maxRetries: 2,
    // Errors come through the stream (and become sentences below); the SDK's default prints them to the console.
    onError: () => undefined,
    // The system message is ours (conversationFor puts llm.systemPrompt first; what people write is
    // always a user turn). Without this the SDK prints a warning on every call, in the console chat too.
    allowSystemInMessages: true,
  });
  let text = "";
  const toolCalls: ToolCallRecord[] = [];
  try {
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") {
        text += part.text;
        out.show(text);
      } else if (part.type === "tool-call") {
        const invalid = part.invalid ? errorText(part.error) : undefined;
        toolCalls.push({ id: part.toolCallId, name: part.toolName, input: part.input, ...(invalid !== undefined ? { invalid } : {}) });
      } else if (part.type === "error") {
        throw part.error;
      }
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    // The stream died half way: keep what arrived, marked, rather than lose it.
    if (text.trim() !== "" && APICallError.isInstance(error) && error.statusCode === 200) return { text: `${text} …(cut off: the model's answer was interrupted)`, toolCalls: [], cutOff: true };
    throw modelError(error, llm, timeout.aborted);
  }
  if (timeout.aborted) throw modelError(undefined, llm, true);
  return { text, toolCalls };
}

/** A failed model call, said plainly; `permanent` when only a person can fix it (the key, the model name). */
export interface ModelFailure {
  message: string;
  permanent: boolean;
}

/**
 * A failed model call as a sentence a person can act on: a refused key names LLM_API_KEY, an
 * unknown model names llm.model, and the SDK's own retries (429, 5xx) are not repeated.
 * Undefined for an error that is not the model API's (it is thrown as it is).
 */
export function modelFailure(error: unknown, llm: ModelSettings, timedOut: boolean): ModelFailure | undefined {
  if (timedOut) return { message: `The model did not answer within ${llm.timeoutSeconds} s (llm.timeoutSeconds).`, permanent: false };
  const cause = RetryError.isInstance(error) ? error.lastError : error;
  const status = APICallError.isInstance(cause) ? cause.statusCode : undefined;
  if (status === 401 || status === 403) return { message: `The model API refused the key (HTTP ${status}): check LLM_API_KEY.`, permanent: true };
  if (status === 404) return { message: `The model "${llm.model}" was not found at ${llm.baseURL} (HTTP 404): check llm.model.`, permanent: true };
  if (status === 429) return { message: "The model API is rate-limiting this bot (HTTP 429), also after retries. Please try again in a minute.", permanent: false };
  if (status !== undefined && status >= 500) return { message: `The model API failed (HTTP ${status}), also after retries. Please try again later.`, permanent: false };
  if (RetryError.isInstance(error)) return { message: `The model API could not be reached, also after retries: ${String((cause as Error | undefined)?.message ?? "no answer")}.`, permanent: false };
  return undefined;
}

/** A failed model call as the task's error: a sentence, not retried again by the runner. */
export function modelError(error: unknown, llm: ModelSettings, timedOut: boolean): Error {
  const failure = modelFailure(error, llm, timedOut);
  if (failure) return new NonRetriableError(failure.message);
  return error instanceof Error ? error : new Error(String(error));
}

/** The tools as the model sees them: what they are and take, never how they run or whether they need approval. */
function describedOnly(tools: ToolSet): ToolSet {
  const described: ToolSet = {};
  for (const [name, t] of Object.entries(tools)) {
    const { execute: _execute, needsApproval: _approval, onInputAvailable: _a, onInputDelta: _d, onInputStart: _s, ...rest } = t as typeof t & Record<string, unknown>;
    described[name] = rest as ToolSet[string];
  }
  return described;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error ?? "invalid");
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
