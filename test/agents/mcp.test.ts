import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { defineAgent, runWorkflow } from "../../src/index.ts";
import { startFakeLlm, type FakeLlm } from "../fakes/llm/server.ts";
import { startFakeMcpHttp } from "../fakes/mcp/http.ts";

/**
 * MCP servers from `llm.mcpServers` give agents their tools, through the AI SDK's MCP client:
 * a fake server (the official SDK) over stdio and over Streamable HTTP, a tool that requires
 * approval, a header from the environment, a server that does not start.
 */
const stdioServer = fileURLToPath(new URL("../fakes/mcp/stdio.ts", import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function llm(): Promise<FakeLlm> {
  const fake = await startFakeLlm();
  cleanups.push(() => fake.close());
  return fake;
}

const modelOf = (fake: FakeLlm) => createOpenAICompatible({ name: "fake", baseURL: fake.baseURL, apiKey: fake.apiKey }).chatModel(fake.model);

function toolResults(fake: FakeLlm): Record<string, string> {
  const messages = fake.completions.at(-1)!.messages as Array<{ role: string; tool_call_id?: string; content?: unknown }>;
  return Object.fromEntries(messages.filter((m) => m.role === "tool").map((m) => [m.tool_call_id!, String(m.content)]));
}

describe("agents and MCP servers", () => {
  it("over stdio: the server's tools reach the model; a call runs once; the tool in requireApproval waits for the person", async () => {
    const fake = await llm();
    const dir = await mkdtemp(path.join(tmpdir(), "chatflow-mcp-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const log = path.join(dir, "calls.log");
    fake.script(
      { toolCalls: [{ id: "w1", name: "weather", arguments: { city: "Oslo" } }] },
      { toolCalls: [{ id: "d1", name: "delete_note", arguments: { id: "n-7" } }] },
      { text: "Sunny in Oslo, and the note is gone." },
    );
    const agent = defineAgent({ name: "notes", model: modelOf(fake), mcpServers: ["notes"] });
    const run = await runWorkflow(agent, { text: "weather, then delete note n-7" }, {
      config: { llm: { mcpServers: [{ name: "notes", command: process.execPath, args: ["--import", "tsx", stdioServer, log], requireApproval: ["delete_note"] }] } },
      answers: [{ approved: true }],
      timeoutMs: 30_000,
    });
    expect(run.task.status).toBe("completed");
    expect(fake.completions[0]!.tools?.map((t) => t.name).sort()).toEqual(["ask_user", "delete_note", "inventory", "request_review", "weather"]);
    expect(run.asked.map((m) => m.text)).toEqual(["Allow delete_note (notes)? (Deletes a note for good)"]);
    expect(toolResults(fake)).toMatchObject({ w1: expect.stringContaining("Sunny in Oslo"), d1: expect.stringContaining("deleted n-7") });
    const calls = (await readFile(log, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { tool: string });
    expect(calls.map((c) => c.tool)).toEqual(["weather", "delete_note"]);
  }, 40_000);

  it("over HTTP: the header's secret comes from the environment; rejected, the tool never runs and the model hears why", async () => {
    const fake = await llm();
    const mcp = await startFakeMcpHttp({ token: "mcp-secret-token" });
    cleanups.push(() => mcp.close());
    fake.script({ toolCalls: [{ id: "w2", name: "weather", arguments: { city: "Rome" } }] }, { text: "I was not allowed to look." }, { toolCalls: [{ id: "i1", name: "inventory", arguments: { item: "owl" } }] }, { text: "The inventory is down." });
    const agent = defineAgent({ name: "web-tools", model: modelOf(fake), mcpServers: "all" });
    const run = await runWorkflow(agent, { text: "weather in Rome?" }, {
      config: { llm: { mcpServers: [{ name: "web", url: mcp.url, headers: { Authorization: "Bearer ${MCP_TOKEN}" }, requireApproval: "all" }] } },
      env: { MCP_TOKEN: "mcp-secret-token" },
      answers: [{ approved: false, feedback: "not now" }],
    });
    expect(run.task.status).toBe("completed");
    expect(mcp.refused).toBe(0);
    expect(mcp.calls).toEqual([]);
    expect(toolResults(fake).w2).toBe("The person did not allow this call: not now");

    // A call the server answers with isError: the model hears it failed, with the server's words.
    const again = await runWorkflow(defineAgent({ name: "stock", model: modelOf(fake), mcpServers: ["web"] }), { text: "owls in stock?" }, {
      config: { llm: { mcpServers: [{ name: "web", url: mcp.url, headers: { Authorization: "Bearer ${MCP_TOKEN}" } }] } },
      env: { MCP_TOKEN: "mcp-secret-token" },
    });
    expect(again.task.status).toBe("completed");
    expect(mcp.calls.map((c) => c.tool)).toEqual(["inventory"]);
    expect(toolResults(fake).i1).toBe("The tool inventory failed: the inventory backend is down");
  });

  it("a server that does not start: the status says so, the agent goes on without its tools", async () => {
    const fake = await llm();
    fake.script({ text: "I can't check the weather right now." });
    const agent = defineAgent({ name: "broken-tools", model: modelOf(fake), mcpServers: "all" });
    const run = await runWorkflow(agent, { text: "weather?" }, { config: { llm: { mcpServers: [{ name: "gone", command: path.join(tmpdir(), "no-such-mcp-server"), timeoutSeconds: 5 }] } } });
    expect(run.task.status).toBe("completed");
    expect(fake.completions[0]!.tools?.map((t) => t.name).sort()).toEqual(["ask_user", "request_review"]);
    // The person sees why, in the task's status.
    expect(run.task.step).toMatch(/^The MCP server "gone" is not available \(.+\); going on without its tools\.$/);
  });
});
