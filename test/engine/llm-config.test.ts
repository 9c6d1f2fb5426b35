import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { llmConfigured, llmFromConfig, llmHalfConfigured } from "../../src/workflows/assistant/provider.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";

describe("llm configuration", () => {
  it("is off by default; says what to set, naming LLM_API_KEY and the llm keys, never the key", () => {
    const config = parseConfig({});
    expect(config.llm).toMatchObject({ temperature: 0.7, maxTokens: 1024, timeoutSeconds: 60, maxContextTokens: 8000, maxSteps: 5 });
    expect(llmConfigured(config, {})).toBe(false);
    expect(() => llmFromConfig(config, {})).toThrow(ConfigError);
    expect(() => llmFromConfig(config, {})).toThrow(/LLM_API_KEY .*llm\.baseURL .*llm\.model/);
    const partial = parseConfig({ llm: { baseURL: "http://localhost:11434/v1", model: "llama3.1" } });
    expect(() => llmFromConfig(partial, {})).toThrow(/^The assistant needs a model to talk to\. Set LLM_API_KEY/);
    expect(llmConfigured(partial, { LLM_API_KEY: "sk-secret-123" })).toBe(true);
    expect(llmFromConfig(partial, { LLM_API_KEY: "sk-secret-123" }).modelId).toBe("llama3.1");
  });

  it("llm: set without LLM_API_KEY is said at start (a warning naming the variable), not left to a quiet demo", async () => {
    const partial = parseConfig({ llm: { baseURL: "http://localhost:11434/v1", model: "llama3.1" } });
    expect(llmHalfConfigured(partial, {})).toBe(
      "The assistant is off: Set LLM_API_KEY (the API key, in the environment; any value for a local server such as Ollama). See \"LLM assistant\" in the README for presets. Until then plain messages go to the demo, and /ask says what to set.",
    );
    expect(llmHalfConfigured(partial, { LLM_API_KEY: "sk-secret-123" })).toBeUndefined();
    expect(llmHalfConfigured(parseConfig({}), {})).toBeUndefined();
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = ((_obj: unknown, msg?: string) => void warnings.push(String(msg))) as typeof logger.warn;
    await createBot({ config: partial, store: createMemoryStore(), adapters: [], logger, env: {} });
    expect(warnings).toEqual([expect.stringMatching(/^The assistant is off: Set LLM_API_KEY/)]);
  });

  it("refuses a bad section, naming the field", () => {
    expect(() => parseConfig({ llm: { baseURL: "ftp://x", temperature: 3 } })).toThrow(/llm\.baseURL[\s\S]*llm\.temperature/);
    const secret = () => parseConfig({ llm: { apiKey: "sk-secret-1" } });
    expect(secret).toThrow(/llm\.apiKey: secrets never go in the configuration file; remove it and set LLM_API_KEY/);
    expect(secret).not.toThrow(/sk-secret-1/);
  });
});
