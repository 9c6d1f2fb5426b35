import { generateText, type ModelMessage } from "ai";
import { ChatflowError } from "../../errors.ts";
import type { Message } from "../../model.ts";
import { conversationFor } from "../../agents/conversation.ts";
import { modelFailure } from "../../agents/model-call.ts";
import type { LlmSetup } from "./provider.ts";

/** What a schedule with a `prompt` asks for at one slot. */
export interface ComposeRequest {
  prompt: string;
  /** The chat's recent history, when the schedule wants it (`withHistory`). */
  history?: readonly Message[];
  /** Aborted when the scheduler stops. */
  signal: AbortSignal;
}

/** Writes a scheduled message from a prompt; throws when there is nothing whole to post. */
export type Composer = (request: ComposeRequest) => Promise<string>;

/**
 * The assistant writing a scheduled message. Nothing half-written is posted: the whole answer
 * is awaited (no streaming into the chat), and one cut at `llm.maxTokens`, or empty, is refused
 * like a failed call. Failures carry a code the scheduler acts on: `config` for what only a
 * person can fix (a refused key, an unknown model, a too-small `llm.maxTokens`), which counts
 * towards pausing the schedule; anything else (429, 5xx, timeouts, unreachable) leaves the
 * slot pending, to be written again.
 */
export function createComposer(setup: LlmSetup): Composer {
  const llm = setup.settings;
  return async ({ prompt, history, signal }) => {
    const timeout = AbortSignal.timeout(Math.round(llm.timeoutSeconds * 1000));
    const messages: ModelMessage[] = [
      ...conversationFor(history ?? [], `${llm.systemPrompt}\n\nYou are writing a message the bot posts in this chat on a schedule.`, llm.maxContextTokens),
      { role: "user", content: `Write the message to post now, following this instruction. Reply with the message only.\n\n${prompt}` },
    ];
    let result: Awaited<ReturnType<typeof generateText>>;
    try {
      result = await generateText({
        model: setup.model,
        messages,
        temperature: llm.temperature,
        maxOutputTokens: llm.maxTokens,
        abortSignal: AbortSignal.any([signal, timeout]),
        maxRetries: 2,
        // The system message is ours (the configured prompt); without this the SDK warns on every call.
        allowSystemInMessages: true,
      });
    } catch (error) {
      if (signal.aborted) throw new ChatflowError("cancelled", "The scheduler stopped while the model was writing.");
      const failure = modelFailure(error, llm, timeout.aborted);
      if (!failure) throw error;
      throw new ChatflowError(failure.permanent ? "config" : "network", failure.message);
    }
    const text = result.text.trim();
    if (result.finishReason === "length") {
      throw new ChatflowError("config", `The model's message was cut off at llm.maxTokens (${llm.maxTokens}); nothing was posted. Raise llm.maxTokens or ask for a shorter message.`);
    }
    if (text === "") throw new ChatflowError("network", "The model wrote an empty message; nothing was posted.");
    return text;
  };
}
