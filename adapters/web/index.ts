import type { Adapter, AdapterCapabilities, AdapterStartContext, InboundHandler } from "../../src/adapter.ts";
import type { AdapterFactoryContext } from "../../src/adapter-table.ts";
import { authConfigured, authFromEnv, JWT_SECRET_ENV, TOKENS_ENV, type AuthSettings } from "../../src/api/index.ts";
import { EventStreams } from "../../src/api/event-streams.ts";
import { ApiMetrics } from "../../src/api/metrics.ts";
import type { Bot } from "../../src/app.ts";
import { parseSection } from "../../src/config/load.ts";
import { ChatflowError, ConfigError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { chatflowVersion } from "../../src/version.ts";
import { sessionKey, type Address, type InboundEvent, type OutboundMessage, type SentMessage } from "../../src/model.ts";
import { webConfigSchema, type WebConfigInput } from "./config.ts";
import { isReplyId, messageIdFor, replyData, shownAsReply } from "./outbound.ts";
import { startWebServer, type WebServer } from "./server.ts";

export const PLATFORM = "web";
/** Overrides `adapters.web.port` (a second instance, a test, a platform that assigns the port). */
export const PORT_ENV = "CHATFLOW_WEB_PORT";

export interface WebAdapterOptions {
  config?: WebConfigInput;
  /** Tokens and the JWT secret; default from CHATFLOW_API_TOKENS and CHATFLOW_JWT_SECRET in `env`. */
  auth?: AuthSettings;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export type WebAdapter = Adapter & {
  /** The address of the running server (`http://127.0.0.1:3000`), once started. */
  readonly url: string | undefined;
};

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}


/**
 * The web channel (platform `web`): one HTTP server with the chat page, the REST API, live
 * events (SSE and WebSocket), /healthz and /metrics, over the bot it is started with. A web
 * session is a direct chat between its user and the bot; what the engine sends there reaches
 * the user's clients through the event feed.
 */
export function createWebAdapter(options: WebAdapterOptions = {}): WebAdapter {
  const config = parseSection(webConfigSchema, options.config ?? {}, "adapters.web");
  const auth = options.auth ?? authFromEnv(options.env ?? process.env);
  if (!authConfigured(auth) && !isLoopback(config.host)) {
    throw new ConfigError(
      `adapters.web.host is ${config.host}, which other machines can reach, and no credentials are configured: set ${TOKENS_ENV} (user:token pairs) or ${JWT_SECRET_ENV}, or bind to 127.0.0.1.`,
    );
  }
  // No status messages: the page and API clients follow progress in the event feed.
  const capabilities: AdapterCapabilities = { editIntervalMs: 100, maxTextLength: 100_000, persistentMessages: true, statusMessages: false };
  let server: WebServer | undefined;
  let bot: Bot | undefined;
  let metrics: ApiMetrics | undefined;

  function publishReply(address: Address, messageId: string, message: OutboundMessage): void {
    if (!bot) return;
    const session = bot.store.findOpenSession(sessionKey(address));
    void session.then((found) => {
      if (!found || !bot) return;
      return bot.events.publish({ type: "reply", sessionId: found.id, ...(message.taskId ? { taskId: message.taskId } : {}), data: replyData(messageId, message, address) });
    });
  }

  return {
    platform: PLATFORM,
    capabilities,
    get url() {
      return server?.url;
    },
    async start(_handler: InboundHandler, context?: AdapterStartContext) {
      if (!context?.bot) throw new ChatflowError("config", "The web adapter serves a bot's API: start it through createBot (bot.start()).");
      bot = context.bot;
      const streams = new EventStreams();
      metrics = new ApiMetrics(bot, streams);
      const adapters = bot.adapters;
      server = await startWebServer({
        bot,
        platform: PLATFORM,
        auth,
        limits: config.rateLimit,
        bodyLimitBytes: config.bodyLimitBytes,
        requestTimeoutMs: config.requestTimeoutMs,
        headersTimeoutMs: config.headersTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        trustProxy: config.trustProxy,
        streams,
        corsOrigins: config.corsOrigins,
        version: chatflowVersion(),
        host: config.host,
        port: config.port,
        basePath: config.basePath,
        metrics,
        adapterHealth: () => Object.fromEntries(adapters.map((a) => [a.platform, { connected: a.connected?.() ?? true }])),
      });
      options.logger?.info({ url: server.url, auth: authConfigured(auth) ? "tokens" : "local user" }, "web chat and API listening");
    },
    async stop() {
      metrics?.close();
      await server?.close();
      server = undefined;
    },
    async send(address, message): Promise<SentMessage> {
      const id = messageIdFor(message);
      if (shownAsReply(message)) publishReply(address, id, message);
      return { id };
    },
    async edit(address, messageId, message) {
      if (isReplyId(messageId)) publishReply(address, messageId, message);
    },
    async notify(event: InboundEvent, text: string) {
      // A web session has one user: a private notice is a notice in it.
      publishReply(event.address, messageIdFor({ kind: "notice", text }), { kind: "notice", text });
      return true;
    },
  };
}

/** For the adapter table: the `adapters.web` section, tokens from the environment. */
export function fromConfig(section: unknown, env: NodeJS.ProcessEnv, context: AdapterFactoryContext): WebAdapter {
  const config = parseSection(webConfigSchema, section, "adapters.web");
  const port = env[PORT_ENV]?.trim();
  if (port) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new ConfigError(`${PORT_ENV} must be a port number (0-65535; 0 picks a free one), not "${port}".`);
    config.port = Number(port);
  }
  return createWebAdapter({ config, env, logger: context.logger });
}
