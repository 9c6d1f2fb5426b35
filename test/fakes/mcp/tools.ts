/**
 * The fake MCP server's tools, built on the official TypeScript SDK (@modelcontextprotocol/sdk,
 * MIT): `weather` answers from its input, `delete_note` stands for a tool with a side effect
 * (configured to need approval in the tests), `inventory` fails (a result marked isError). Each
 * call is reported to `record` before it answers.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

export interface McpCall {
  tool: string;
  input: Record<string, unknown>;
}

export function fakeMcpServer(record: (call: McpCall) => void): McpServer {
  const server = new McpServer({ name: "fake-mcp", version: "1.0.0" });
  server.registerTool("weather", { description: "The weather in a city", inputSchema: { city: z.string() } }, async ({ city }) => {
    record({ tool: "weather", input: { city } });
    return { content: [{ type: "text", text: `Sunny in ${city}` }] };
  });
  server.registerTool("delete_note", { description: "Deletes a note for good", inputSchema: { id: z.string() } }, async ({ id }) => {
    record({ tool: "delete_note", input: { id } });
    return { content: [{ type: "text", text: `deleted ${id}` }] };
  });
  server.registerTool("inventory", { description: "Stock of an item (its backend is down)", inputSchema: { item: z.string() } }, async ({ item }) => {
    record({ tool: "inventory", input: { item } });
    return { content: [{ type: "text", text: "the inventory backend is down" }], isError: true };
  });
  return server;
}
