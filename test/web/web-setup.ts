import { createBot, type Bot } from "../../src/app.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/port.ts";
import type { Workflow } from "../../src/tasks/workflow.ts";
import { createWebAdapter, type WebAdapter } from "../../adapters/web/index.ts";
import type { WebConfigInput } from "../../adapters/web/config.ts";

/** Tokens of the test users (each at least 16 characters). */
export const TOKENS = { alice: "alice-token-0123456789", bob: "bob-token-0123456789ab", rev: "reviewer-token-0123456" } as const;
export const JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789";

export interface WebBot {
  bot: Bot;
  web: WebAdapter;
  store: Store;
  url: string;
  /** fetch against the server as `user` (a token), JSON in and out. */
  call(method: string, path: string, options?: { as?: keyof typeof TOKENS | null; token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** A bot with the web adapter alone, on 127.0.0.1 port 0, the memory store (or `store`) and a fast demo. */
export async function startWebBot(options: { config?: ConfigInput; web?: WebConfigInput; store?: Store; env?: NodeJS.ProcessEnv; tokens?: boolean; workflows?: Workflow<any>[] } = {}): Promise<WebBot> {
  const env: NodeJS.ProcessEnv = options.tokens === false ? {} : { CHATFLOW_API_TOKENS: Object.entries(TOKENS).map(([user, token]) => `${user}:${token}`).join(","), CHATFLOW_JWT_SECRET: JWT_SECRET, ...options.env };
  const web = createWebAdapter({ config: { port: 0, ...options.web }, env });
  const store = options.store ?? createMemoryStore();
  const bot = await createBot({
    config: { tasks: { retryBaseMs: 1 }, workflows: { demo: { stepDelayMs: 5 } }, reviewers: ["web:rev"], ...options.config },
    store,
    adapters: [web],
    workflows: options.workflows ?? [],
    logger: silentLogger(),
    env,
  });
  await bot.start();
  const url = web.url!;
  return {
    bot,
    web,
    store,
    url,
    async call(method, path, { as = "alice", token, body, headers = {} } = {}) {
      const bearer = token ?? (as ? TOKENS[as] : undefined);
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON (metrics, the page): the text.
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    stop: () => bot.stop(),
  };
}

/** Registers an afterEach that stops every web bot started through the returned function. */
export function useWebBots(afterEachHook: (fn: () => Promise<void>) => void): typeof startWebBot {
  const bots: WebBot[] = [];
  afterEachHook(async () => {
    for (const bot of bots.splice(0)) await bot.stop();
  });
  return async (options) => {
    const bot = await startWebBot(options);
    bots.push(bot);
    return bot;
  };
}
