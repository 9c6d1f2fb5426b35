import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { llmConfigured, llmFromConfig } from "../../src/workflows/assistant/provider.ts";

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

  it("refuses a bad section, naming the field", () => {
    expect(() => parseConfig({ llm: { baseURL: "ftp://x", temperature: 3 } })).toThrow(/llm\.baseURL[\s\S]*llm\.temperature/);
    const secret = () => parseConfig({ llm: { apiKey: "sk-secret-1" } });
    expect(secret).toThrow(/llm\.apiKey: secrets never go in the configuration file; remove it and set LLM_API_KEY/);
    expect(secret).not.toThrow(/sk-secret-1/);
  });
});
