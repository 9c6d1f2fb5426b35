import type { Config } from "../../config/schema.ts";
import { defineAgent, type Agent } from "../../agents/define-agent.ts";

/**
 * The assistant: an agent (defineAgent) with no tools of its own, on the model `llm:`
 * configures. It answers over the session's history, streaming the answer into one message;
 * the model may ask the person a clarifying question (`ask_user`) or show a draft for review
 * (`request_review`), which park the task like any question. Every model call is a journaled
 * step: after a restart a finished call is not repeated, and one that was cut off is made
 * again into the same message. It may call the tools of every MCP server in `llm.mcpServers`.
 * The bot binds it to the configured model; not configured, a task fails with what to set.
 */
export function createAssistantWorkflow(config: Config): Agent {
  return defineAgent({ name: "assistant", description: "ask the assistant (an LLM) anything", system: config.llm.systemPrompt, maxSteps: config.llm.maxSteps, mcpServers: "all" });
}
