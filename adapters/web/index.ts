import { ApiMetrics, authConfigured, authFromEnv, EventStreams, JWT_SECRET_ENV, TOKENS_ENV, type AuthSettings } from "../../src/api/index.ts";
import { ChatflowError, ConfigError } from "../../src/errors.ts";
import { silentLogger, type Logger } from "../../src/logger.ts";
import type { Address, InboundEvent, OutboundMessage, SentMessage } from "../../src/model.ts";
import { parseSection, type Adapter, type AdapterCapabilities, type AdapterFactoryContext, type AdapterStartContext, type Host, type InboundHandler } from "../../src/port/index.ts";
import { webConfigSchema, type WebConfigInput } from "./config.ts";
import { isReplyId, messageIdFor, replyData, shownAsReply } from "./outbound.ts";
import { createWebApp, PortInUseError, startWebServer, type WebServer } from "./server.ts";
import type { Hono } from "hono";

export const PLATFORM = "web";
/** Overrides `adapters.web.port` (a second instance, a test, a platform that assigns the port). */
export const PORT_ENV = "CHATFLOW_WEB_PORT";

export interface WebAdapterOptions {
  config?: WebConfigInput;
  /** Tokens and the JWT secret; default from CHATFLOW_API_TOKENS and CHATFLOW_JWT_SECRET in `env`. */
  auth?: AuthSettings;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /**
   * Whether the adapter runs its own HTTP server. Default true. False: it binds nothing, and
   * once the bot has started, `app` is the whole web channel (page, API, events, health) as a
   * Hono app to mount in your own server: `yourApp.route("/", web.app!)`.
   */
  listen?: boolean;
}

export type WebAdapter = Adapter & {
  /** The address of the running server (`http://127.0.0.1:3000`), once started; undefined with `listen: false`. */
  readonly url: string | undefined;
  /** The web channel as a Hono app, once started (with `listen: false`, the one to mount; else the one the server serves). */
  readonly app: Hono | undefined;
  /** Why the web chat is off although enabled (a taken port, with `required: false`); undefined while it serves. */
  readonly unavailable: string | undefined;
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
  // With its own server only: mounted elsewhere, where it is reachable from is the host server's choice.
  if (!authConfigured(auth) && !isLoopback(config.host) && options.listen !== false) {
    throw new ConfigError(
      `adapters.web.host is ${config.host}, which other machines can reach, and no credentials are configured: set ${TOKENS_ENV} (user:token pairs) or ${JWT_SECRET_ENV}, or bind to 127.0.0.1.`,
    );
  }
  // No status messages: the page and API clients follow progress in the event feed.
  const capabilities: AdapterCapabilities = { editIntervalMs: 100, maxTextLength: 100_000, persistentMessages: true, statusMessages: false };
  let server: WebServer | undefined;
  let app: Hono | undefined;
  let unavailable: string | undefined;
  let host: Host | undefined;
  let metrics: ApiMetrics | undefined;

  function publishReply(address: Address, messageId: string, message: OutboundMessage): void {
    const engine = host;
    if (!engine) return;
    void engine.sessions.find(address).then((found) => {
      if (!found) return;
      return engine.events.publish({ type: "reply", sessionId: found.id, ...(message.taskId ? { taskId: message.taskId } : {}), data: replyData(messageId, message, address) });
    });
  }

  return {
    platform: PLATFORM,
    capabilities,
    get url() {
      return server?.url;
    },
    get app() {
      return app ?? server?.app;
    },
    get unavailable() {
      return unavailable;
    },
    async start(_handler: InboundHandler, context?: AdapterStartContext) {
      if (!context?.host) throw new ChatflowError("config", "The web adapter serves a bot's API: start it through createBot (bot.start()).");
      host = context.host;
      const streams = new EventStreams();
      metrics = new ApiMetrics(host, streams);
      const engine = host;
      const settings = {
        engine,
        log: context.log ?? options.logger ?? silentLogger(),
        platform: PLATFORM,
        auth,
        limits: config.rateLimit,
        bodyLimitBytes: config.bodyLimitBytes,
        requestTimeoutMs: config.requestTimeoutMs,
        headersTimeoutMs: config.headersTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        trustProxy: config.trustProxy,
        compat: config.compat, // Compat: the old contracts to serve (src/api/compat).
        streams,
        corsOrigins: config.corsOrigins,
        version: host.version,
        host: config.host,
        port: config.port,
        basePath: config.basePath,
        metrics,
      };
      if (options.listen === false) {
        app = await createWebApp(settings);
        return;
      }
      try {
        server = await startWebServer(settings);
      } catch (error) {
        if (!(error instanceof PortInUseError) || config.required) throw error;
        // Not required: the bot goes on without its web chat, and says why.
        unavailable = error.message;
        options.logger?.warn({ port: config.port }, `the web chat is off: ${error.message}`);
        return;
      }
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
