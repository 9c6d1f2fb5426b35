import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import type { Config } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";

/** Where the API key comes from; it never goes in the configuration file. */
export const API_KEY_ENV = "LLM_API_KEY";

/** What the assistant needs to talk to a model, read from `llm:` and the environment. */
export interface LlmSetup {
  model: LanguageModel;
  /** The model id, for messages (`llm.model`). */
  modelId: string;
  settings: Config["llm"];
}

/** Whether the assistant is configured: a model and a key (local servers accept any key). */
export function llmConfigured(config: Config, env: NodeJS.ProcessEnv): boolean {
  return Boolean(config.llm.model && config.llm.baseURL && env[API_KEY_ENV]?.trim());
}

/**
 * A sentence for an assistant set up only in part (`llm:` names a model or a URL, but something
 * is missing, most often LLM_API_KEY): plain messages then go to the demo, and the person who
 * set `llm:` should hear why at start. Undefined when the assistant is on, or not asked for.
 */
export function llmHalfConfigured(config: Config, env: NodeJS.ProcessEnv): string | undefined {
  if (llmConfigured(config, env) || (!config.llm.model && !config.llm.baseURL)) return undefined;
  try {
    llmFromConfig(config, env);
  } catch (error) {
    return `The assistant is off: ${(error as Error).message.replace(/^The assistant needs a model to talk to\. /, "")} Until then plain messages go to the demo, and /ask says what to set.`;
  }
  return undefined;
}

/**
 * The chat model `llm:` describes, on the AI SDK's OpenAI-compatible provider. Throws a
 * ConfigError that says what to set (LLM_API_KEY, llm.baseURL, llm.model) when something is
 * missing; the key never appears in it.
 */
export function llmFromConfig(config: Config, env: NodeJS.ProcessEnv): LlmSetup {
  const missing: string[] = [];
  const apiKey = env[API_KEY_ENV]?.trim();
  if (!apiKey) missing.push(`${API_KEY_ENV} (the API key, in the environment; any value for a local server such as Ollama)`);
  if (!config.llm.baseURL) missing.push("llm.baseURL (e.g. https://api.openai.com/v1)");
  if (!config.llm.model) missing.push("llm.model (e.g. gpt-4o-mini)");
  if (missing.length > 0) throw new ConfigError(`The assistant needs a model to talk to. Set ${missing.join(", ")}. See "LLM assistant" in the README for presets.`);
  const provider = createOpenAICompatible({ name: "llm", baseURL: config.llm.baseURL!.replace(/\/+$/, ""), apiKey: apiKey!, includeUsage: true });
  return { model: provider.chatModel(config.llm.model!), modelId: config.llm.model!, settings: config.llm };
}
