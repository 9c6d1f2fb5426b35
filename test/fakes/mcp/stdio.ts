/**
 * The fake MCP server over stdio, as `llm.mcpServers[].command` starts it
 * (`node --import tsx test/fakes/mcp/stdio.ts <log file>`). Each call is appended to the log
 * file as a JSON line, so the test sees what the server was asked.
 */
import { appendFileSync } from "node:fs";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { fakeMcpServer } from "./tools.ts";

const log = process.argv[2];
const server = fakeMcpServer((call) => {
  if (log) appendFileSync(log, `${JSON.stringify(call)}\n`);
});
await server.connect(new StdioServerTransport());
