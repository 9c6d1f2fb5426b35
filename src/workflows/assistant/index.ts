import type { ModelMessage } from "ai";
import { z } from "zod";
import type { Config } from "../../config/schema.ts";
import { ChatflowError, NonRetriableError } from "../../errors.ts";
import { defineWorkflow, type Workflow, type WorkflowContext } from "../../tasks/workflow.ts";
import { conversationFor } from "./context.ts";
import { callModel, type ToolCallRecord } from "./model-call.ts";
import { llmFromConfig, type LlmSetup } from "./provider.ts";

/**
 * The assistant: answers with an OpenAI-compatible model over the session's history,
 * streaming the answer into one message; the model may ask the person a clarifying question
 * (`ask_user`) or show a draft for review (`request_review`), which park the task like any
 * question. Every model call is a journaled step: after a restart a finished call is not
 * repeated, and one that was cut off is made again into the same message.
 */
export function createAssistantWorkflow(config: Config, env: NodeJS.ProcessEnv): Workflow<{ text: string }> {
  let setup: LlmSetup | undefined;
  return defineWorkflow({
    name: "assistant",
    description: "ask the assistant (an LLM) anything",
    input: z.object({ text: z.string() }),
    async run(ctx, input) {
      try {
        setup ??= llmFromConfig(config, env);
      } catch (error) {
        // Not configured: the task could not do its work, so it fails, with what to set as its
        // reason (the person reads it in the failure notice); never a success.
        if (error instanceof ChatflowError) throw new NonRetriableError(error.message, { cause: error });
        throw error;
      }
      const llm = setup.settings;
      const messages: ModelMessage[] = await ctx.step("context", () => withRequest(conversationFor(ctx.history, llm.systemPrompt, llm.maxContextTokens), input.text));
      for (let call = 0; call < llm.maxSteps; call++) {
        const out = ctx.stream("answer");
        const turn = await ctx.step("model", (signal) => callModel({ model: setup!.model, llm, messages, out, signal }));
        if (turn.toolCalls.length === 0) {
          const text = turn.text.trim() || "(the model gave an empty answer)";
          return { text, shownIn: await out.finish(text) };
        }
        if (turn.text.trim()) await out.finish(turn.text);
        messages.push(assistantTurn(turn.text, turn.toolCalls));
        for (const toolCall of turn.toolCalls) messages.push(await toolResult(ctx, toolCall));
      }
      return { text: `I stopped after ${llm.maxSteps} model calls without a final answer. Please ask again, more narrowly.` };
    },
  });
}

/** The conversation ends with the person's request (a `/ask` command is not in the history as a message). */
function withRequest(messages: ModelMessage[], text: string): ModelMessage[] {
  const last = messages.at(-1);
  if (text.trim() === "" || (last?.role === "user" && typeof last.content === "string" && last.content.endsWith(text))) return messages;
  return [...messages, { role: "user", content: text }];
}

function assistantTurn(text: string, calls: ToolCallRecord[]): ModelMessage {
  return {
    role: "assistant",
    content: [...(text.trim() ? [{ type: "text" as const, text }] : []), ...calls.map((c) => ({ type: "tool-call" as const, toolCallId: c.id, toolName: c.name, input: c.input }))],
  };
}

/** A tool call answered by the person: `ask_user` as a question, `request_review` as a review. */
async function toolResult(ctx: WorkflowContext, call: ToolCallRecord): Promise<ModelMessage> {
  let value: string;
  const input = (call.input ?? {}) as { question?: unknown; choices?: unknown; draft?: unknown };
  if (call.name === "ask_user" && typeof input.question === "string") {
    const choices = Array.isArray(input.choices) ? input.choices.filter((c): c is string => typeof c === "string") : undefined;
    value = await ctx.ask(input.question, choices && choices.length > 0 ? { choices } : {});
  } else if (call.name === "request_review" && typeof input.question === "string" && typeof input.draft === "string") {
    const verdict = await ctx.review(input.question, { data: input.draft });
    value = JSON.stringify(verdict);
  } else {
    value = `Unknown tool or bad input: ${call.name}`;
  }
  return { role: "tool", content: [{ type: "tool-result", toolCallId: call.id, toolName: call.name, output: { type: "text", value } }] };
}
