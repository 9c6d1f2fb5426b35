import type { LanguageModel, ModelMessage, ToolSet } from "ai";
import { z } from "zod";
import { ChatflowError, NonRetriableError } from "../errors.ts";
import { defineWorkflow, type Workflow, type WorkflowContext, type WorkflowResult } from "../tasks/workflow.ts";
import { conversationFor } from "./conversation.ts";
import { BUILT_IN_TOOLS, callModel, type ModelSettings, type ToolCallRecord } from "./model-call.ts";
import type { McpChoice, McpTools } from "./mcp.ts";
import { runToolCall, toolTitle } from "./tool-run.ts";

/** The model an agent talks to, and how. */
export interface AgentModel {
  model: LanguageModel;
  settings: ModelSettings & { maxContextTokens?: number };
}

export interface AgentOptions {
  /** The workflow's name: what routes, schedules and `/status` call it. */
  name: string;
  description?: string;
  /**
   * An AI SDK model (`createOpenAICompatible(...).chatModel(id)`, a test model), or a function
   * that gives one when a task first needs it. Omitted: the model configured in `llm:` (with
   * LLM_API_KEY), bound by the bot that runs the agent.
   */
  model?: LanguageModel | (() => LanguageModel | AgentModel);
  /** The system prompt; default `llm.systemPrompt`. */
  system?: string;
  /** AI SDK tools (`tool({ description, inputSchema, execute, needsApproval })`), unchanged. */
  tools?: ToolSet;
  /** Most model calls per task; default `llm.maxSteps` (5). */
  maxSteps?: number;
  /** The built-in tools that ask the person (`ask_user`, `request_review`); default both on. */
  askUser?: boolean;
  requestReview?: boolean;
  /** Whether the model sees the session's recent history (default true), or only the request. */
  history?: boolean;
  /** The MCP servers of `llm.mcpServers` whose tools it may call: `all`, or their names. Default none. */
  mcpServers?: McpChoice;
}

/** What the bot running an agent gives it. */
export interface AgentServices {
  /** The configured `llm:` model, for an agent without its own. Throws a ConfigError naming what to set. */
  model?: () => AgentModel;
  /** The tools of the configured MCP servers. */
  mcp?: (choice: McpChoice) => Promise<McpTools>;
}

/** An agent is a workflow (route it, schedule it, test it with runWorkflow like any other). */
export interface Agent extends Workflow<{ text: string }> {
  readonly agent: true;
  /** Whether it has a model of its own. */
  readonly hasModel: boolean;
  /** Called by the bot that runs it: the configured model (used when the agent has none of its own) and MCP servers. */
  bind(services: AgentServices): void;
}

const DEFAULT_SETTINGS: ModelSettings & { maxContextTokens: number } = { temperature: 0.7, maxTokens: 1024, timeoutSeconds: 60, maxContextTokens: 8000 };
const DEFAULT_SYSTEM = "You are a helpful assistant in a chat. Answer clearly and briefly. Ask the person when you need a detail you can't infer.";

/** Whether a workflow is an agent (see defineAgent). */
export function isAgent(workflow: object): workflow is Agent {
  return (workflow as Partial<Agent>).agent === true;
}

/**
 * A person's own tool-using LLM agent as a workflow. Each model call is a journaled step
 * (streamed into one message); each tool call is a journaled step keyed by the model's tool
 * call id, so a restart re-runs neither a finished model call nor a finished tool; a tool with
 * `needsApproval` waits on a review card (approve, reject with feedback, or correct the
 * input); `ask_user` and `request_review` park the task on a question or a review. The status
 * shows which tool runs.
 */
export function defineAgent(options: AgentOptions): Agent {
  let services: AgentServices = {};
  let resolved: AgentModel | undefined;
  const modelFor = (): AgentModel => {
    if (resolved) return resolved;
    const given = typeof options.model === "function" ? options.model() : options.model;
    if (given && typeof given === "object" && "model" in given && "settings" in given) return (resolved = given);
    if (given) return (resolved = { model: given as LanguageModel, settings: DEFAULT_SETTINGS });
    if (!services.model) throw new ChatflowError("validation", `The agent ${options.name} has no model: give defineAgent a model, or run it in a bot with llm: configured.`);
    return (resolved = services.model());
  };
  const builtIn: ToolSet = {
    ...(options.askUser === false ? {} : { ask_user: BUILT_IN_TOOLS.ask_user }),
    ...(options.requestReview === false ? {} : { request_review: BUILT_IN_TOOLS.request_review }),
  };
  const workflow = defineWorkflow({
    name: options.name,
    ...(options.description ? { description: options.description } : {}),
    input: z.object({ text: z.string() }),
    async run(ctx, input): Promise<WorkflowResult> {
      let setup: AgentModel;
      try {
        setup = modelFor();
      } catch (error) {
        // Not configured: the task could not do its work, so it fails with what to set (never a success).
        if (error instanceof ChatflowError) throw new NonRetriableError(error.message, { cause: error });
        throw error;
      }
      const settings = { ...DEFAULT_SETTINGS, ...setup.settings };
      const system = options.system ?? (setup.settings as { systemPrompt?: string }).systemPrompt ?? DEFAULT_SYSTEM;
      const maxSteps = options.maxSteps ?? (setup.settings as { maxSteps?: number }).maxSteps ?? 5;
      const history = options.history === false ? [] : ctx.history;
      // MCP servers: their tools now (a server that can't give them is said, and the agent goes on without).
      const mcp = options.mcpServers && services.mcp ? await services.mcp(options.mcpServers) : undefined;
      for (const problem of mcp?.problems ?? []) {
        ctx.log.warn({ agent: options.name }, problem);
        await ctx.progress(0, problem);
      }
      const tools: ToolSet = { ...builtIn, ...mcp?.tools, ...options.tools };
      const messages: ModelMessage[] = await ctx.step("context", () => withRequest(conversationFor(history, system, settings.maxContextTokens), input.text));
      for (let call = 0; call < maxSteps; call++) {
        const out = ctx.stream("answer");
        const turn = await ctx.step("model", (signal) => callModel({ model: setup.model, llm: settings, tools, messages, out, signal }));
        if (turn.toolCalls.length === 0) {
          const text = turn.text.trim() || "(the model gave an empty answer)";
          return { text, shownIn: await out.finish(text) };
        }
        if (turn.text.trim()) await out.finish(turn.text);
        messages.push(assistantTurn(turn.text, turn.toolCalls));
        for (const toolCall of turn.toolCalls) {
          // The status names the tool at work; asking the person shows as waiting for them.
          if (!(toolCall.name in builtIn)) await ctx.progress(Math.min(95, Math.round(((call + 1) / maxSteps) * 90)), `${toolTitle(toolCall.name, tools[toolCall.name])}…`);
          messages.push(toolMessage(toolCall, await answerToolCall(ctx, toolCall, tools, messages)));
        }
      }
      return { text: `I stopped after ${maxSteps} model calls without a final answer. Please ask again, more narrowly.` };
    },
  });
  return {
    ...workflow,
    agent: true as const,
    get hasModel() {
      return options.model !== undefined;
    },
    bind(given: AgentServices) {
      services = given;
      if (options.model === undefined) resolved = undefined;
    },
  };
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
    content: [...(text.trim() ? [{ type: "text" as const, text }] : []), ...calls.map((c) => ({ type: "tool-call" as const, toolCallId: c.id, toolName: c.name, input: c.input ?? {} }))],
  };
}

type Output = Awaited<ReturnType<typeof runToolCall>>;

function toolMessage(call: ToolCallRecord, output: Output): ModelMessage {
  return { role: "tool", content: [{ type: "tool-result", toolCallId: call.id, toolName: call.name, output }] };
}

/** The built-in tools ask the person; any other is the agent's own (approval, then a journaled step). */
async function answerToolCall(ctx: WorkflowContext, call: ToolCallRecord, tools: ToolSet, messages: ModelMessage[]): Promise<Output> {
  if (call.invalid !== undefined && tools[call.name]) return { type: "error-text", value: `The input for ${call.name} was not valid: ${call.invalid}` };
  const input = (call.input ?? {}) as { question?: unknown; choices?: unknown; draft?: unknown };
  if (call.name === "ask_user" && tools.ask_user && call.invalid === undefined && typeof input.question === "string") {
    const choices = Array.isArray(input.choices) ? input.choices.filter((c): c is string => typeof c === "string") : undefined;
    return { type: "text", value: await ctx.ask(input.question, choices && choices.length > 0 ? { choices } : {}) };
  }
  if (call.name === "request_review" && tools.request_review && call.invalid === undefined && typeof input.question === "string" && typeof input.draft === "string") {
    return { type: "text", value: JSON.stringify(await ctx.review(input.question, { data: input.draft })) };
  }
  return runToolCall(ctx, call, call.name === "ask_user" || call.name === "request_review" ? undefined : tools[call.name], messages);
}
