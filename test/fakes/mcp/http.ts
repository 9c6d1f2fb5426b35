/**
 * The fake MCP server over Streamable HTTP on 127.0.0.1 (stateless: a server and a transport per
 * request, as the SDK's examples do), requiring `Authorization: Bearer <token>` when given one.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { fakeMcpServer, type McpCall } from "./tools.ts";

export interface FakeMcpHttp {
  url: string;
  calls: McpCall[];
  /** Requests refused for a missing or wrong token. */
  refused: number;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

export async function startFakeMcpHttp(options: { token?: string } = {}): Promise<FakeMcpHttp> {
  const fake: FakeMcpHttp = { url: "", calls: [], refused: 0, close: async () => undefined };
  const http = createServer((req, res) => {
    void (async () => {
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
        fake.refused++;
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "unauthorized" }));
        return;
      }
      if (req.method !== "POST") {
        res.writeHead(405, { allow: "POST" }).end();
        return;
      }
      const server = fakeMcpServer((call) => fake.calls.push(call));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, await bodyOf(req));
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  fake.close = () => new Promise((resolve) => http.close(() => resolve()));
  return fake;
}
