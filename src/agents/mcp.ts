import { createMCPClient, type MCPClient } from "@ai-sdk/mcp";
import { Experimental_StdioMCPTransport as StdioMCPTransport } from "@ai-sdk/mcp/mcp-stdio";
import type { ToolSet } from "ai";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../logger.ts";

export type McpServerConfig = Config["llm"]["mcpServers"][number];

/** The tools of the MCP servers an agent asked for, and a sentence for each server that could not give them. */
export interface McpTools {
  tools: ToolSet;
  problems: string[];
}

/** Which servers an agent uses: all configured, or those named. */
export type McpChoice = "all" | readonly string[];

/**
 * The MCP servers of `llm.mcpServers`, through the AI SDK's MCP client: a stdio server is
 * started as a command (with only the environment variables it names), an HTTP server is
 * reached with its headers (`${NAME}` taken from the environment). Each is connected at its
 * first use and kept; one that does not start, answer or list its tools in time gives a
 * sentence (the agent goes on without its tools) and is tried again at the next use. Its tools
 * are AI SDK tools: the agent journals each call like any tool's, and those in
 * `requireApproval` wait for a person's approval first.
 */
export class McpServers {
  readonly #servers: readonly McpServerConfig[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: Logger;
  readonly #clients = new Map<string, Promise<MCPClient>>();
  #closed = false;

  constructor(servers: readonly McpServerConfig[], env: NodeJS.ProcessEnv, log: Logger) {
    this.#servers = servers;
    this.#env = env;
    this.#log = log;
  }

  get names(): string[] {
    return this.#servers.map((s) => s.name);
  }

  async tools(choice: McpChoice): Promise<McpTools> {
    const wanted = choice === "all" ? this.#servers : this.#servers.filter((s) => choice.includes(s.name));
    const problems = choice === "all" ? [] : choice.filter((name) => !this.#servers.some((s) => s.name === name)).map((name) => `There is no MCP server named "${name}" in llm.mcpServers.`);
    const tools: ToolSet = {};
    const lists = await Promise.all(wanted.map(async (server) => ({ server, listed: await this.#toolsOf(server) })));
    for (const { server, listed } of lists) {
      if (typeof listed === "string") {
        problems.push(listed);
        continue;
      }
      for (const [name, tool] of Object.entries(listed)) {
        const approval = server.requireApproval === "all" || server.requireApproval.includes(name);
        // Two servers with a tool of the same name: the later one's is named after its server.
        const key = tools[name] ? `${server.name}_${name}` : name;
        tools[key] = { ...tool, ...(approval ? { needsApproval: true } : {}), title: tool.title ?? `${name} (${server.name})` };
      }
    }
    return { tools, problems };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((client) => client.then((c) => c.close()).catch(() => undefined)));
  }

  /** The server's tools, or a sentence saying why there are none. */
  async #toolsOf(server: McpServerConfig): Promise<ToolSet | string> {
    if (this.#closed) return `The MCP server "${server.name}" is not available: chatflow is stopping.`;
    let client = this.#clients.get(server.name);
    if (!client) {
      client = this.#connect(server);
      this.#clients.set(server.name, client);
    }
    try {
      const connected = await client;
      return await withTimeout(connected.tools(), server.timeoutSeconds, "list its tools");
    } catch (error) {
      // Tried again at the next use.
      if (this.#clients.get(server.name) === client) this.#clients.delete(server.name);
      void client.then((c) => c.close()).catch(() => undefined);
      const sentence = `The MCP server "${server.name}" is not available (${describe(error)}); going on without its tools.`;
      this.#log.warn({ mcpServer: server.name }, sentence);
      return sentence;
    }
  }

  #connect(server: McpServerConfig): Promise<MCPClient> {
    const timeout = server.timeoutSeconds * 1000;
    const initializationOptions = { timeout };
    const onUncaughtError = (error: unknown) => this.#log.warn({ mcpServer: server.name, err: error }, "MCP server error");
    if (server.command !== undefined) {
      const env = Object.fromEntries(server.env.flatMap((name) => (this.#env[name] !== undefined ? [[name, this.#env[name]!]] : [])));
      // The server's PATH, so a command such as `npx` is found; nothing else of chatflow's environment.
      if (this.#env.PATH && env.PATH === undefined) env.PATH = this.#env.PATH;
      const transport = new StdioMCPTransport({ command: server.command, args: server.args, env, stderr: "ignore" });
      return withTimeout(createMCPClient({ transport, initializationOptions, onUncaughtError }), server.timeoutSeconds, "start");
    }
    const headers = Object.fromEntries(Object.entries(server.headers).map(([name, value]) => [name, value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, variable: string) => this.#env[variable] ?? "")]));
    return withTimeout(createMCPClient({ transport: { type: "http", url: server.url!, headers }, initializationOptions, onUncaughtError }), server.timeoutSeconds, "answer");
  }
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function withTimeout<T>(work: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not ${what} within ${seconds} s`)), seconds * 1000);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
