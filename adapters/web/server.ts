import { readFile } from "node:fs/promises";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import { API_PREFIX, createApi, healthRoutes, isChatSocketPath, MAX_CLIENT_FRAME_BYTES, type ApiMetrics, type ApiOptions } from "../../src/api/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from "./config.ts";
import { upgradeProblem } from "./upgrade.ts";

/** The web server's port is taken by another program. */
export class PortInUseError extends ConfigError {}

/** The page's files, read once: small, and served from memory. */
const PAGE_FILES: Record<string, string> = { "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8" };

async function loadPage(): Promise<Map<string, { body: string; type: string }>> {
  const files = new Map<string, { body: string; type: string }>();
  for (const [name, type] of Object.entries(PAGE_FILES)) files.set(name, { body: await readFile(new URL(`./page/${name}`, import.meta.url), "utf8"), type });
  return files;
}

export interface WebServer {
  /** `http://host:port` + basePath, as a person opens it. */
  readonly url: string;
  /** The app it serves. */
  readonly app: Hono;
  close(): Promise<void>;
}

/** What the server needs besides the API's options: where to listen, health, and how long a request may take to arrive. */
export interface WebServerOptions extends ApiOptions {
  host: string;
  port: number;
  basePath: string;
  metrics: ApiMetrics;
  /** Each adapter's connection, by platform; default: what the engine knows of its adapters. */
  adapterHealth?: () => Record<string, { connected: boolean }>;
  /** Time to receive a whole request (headers and body), in ms; then Node answers 408 and closes the connection. */
  requestTimeoutMs: number;
  /** Time to receive a request's headers, in ms (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open after its last response, in ms: longer
   * than any balancer in front keeps its idle connections. Default 65 s (Node's own is 5 s).
   */
  keepAliveTimeoutMs?: number;
}

/** What the web app needs: the API's options, where it is mounted, and health. */
export type WebAppOptions = ApiOptions & Pick<WebServerOptions, "basePath" | "metrics" | "adapterHealth">;

/**
 * The whole web channel as one Hono app, without a server: the chat page at `/`, the API under
 * `/api`, `/healthz` and `/metrics`, all under `basePath`. startWebServer serves it; a library
 * user may mount it in a server of their own (the WebSocket route then needs the caller's
 * `upgradeWebSocket`; Server-Sent Events work anywhere).
 */
export async function createWebApp(options: WebAppOptions): Promise<Hono> {
  const page = await loadPage();
  const root = new Hono();
  const site = new Hono();
  site.route("/", createApi(options));
  site.route("/", healthRoutes({ engine: options.engine, version: options.version ?? options.engine.version, metrics: options.metrics, ...(options.adapterHealth ? { adapters: options.adapterHealth } : {}) }));
  site.get("/", (c) => c.redirect(`${options.basePath}/index.html`, 302));
  // One route per file, not a pattern: Hono's RegExpRouter (the fast one) takes no regex groups.
  for (const [name, file] of page) {
    site.get(`/${name}`, (c) => {
      c.header("Content-Type", file.type);
      c.header("Cache-Control", "no-cache");
      c.header("X-Content-Type-Options", "nosniff");
      if (file.type.startsWith("text/html")) c.header("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
      return c.body(file.body);
    });
  }
  // Under a sub-path, `/chat/` as well as `/chat` opens the page.
  if (options.basePath) root.get(`${options.basePath}/`, (c) => c.redirect(`${options.basePath}/index.html`, 302));
  root.route(options.basePath || "/", site);
  root.notFound((c) => c.json({ error: "not_found", message: `There is no ${c.req.method} ${new URL(c.req.url).pathname}.` }, 404));
  return root;
}

/**
 * One HTTP server: the chat page at `/`, the API under `/api`, WebSocket events, `/healthz`
 * and `/metrics`, all under `basePath`. Requests must arrive within the configured timeouts;
 * idle keep-alive connections are kept longer than load balancers keep theirs; only the
 * WebSocket route takes an upgrade, and its clients' frames are kept small.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  let root: Hono | undefined;
  // Node hands every request with an Upgrade header to the WebSocket server, which runs it
  // through the app as a bodiless GET and throws the response away. Only a well-formed
  // WebSocket upgrade of the WebSocket route goes on; anything else gets its status line
  // (400) and no route runs (an event stream opened that way would never end).
  const wsPath = `${options.basePath}${API_PREFIX}/ws`;
  const upgrades = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
  upgrades.all("*", (c) => {
    // Compat: the chat-session contract's WebSocket (/chat/{flow_id}) takes upgrades too when enabled.
    let path = "";
    try {
      path = new URL(c.env.incoming.url ?? "/", "http://localhost").pathname;
    } catch {
      // upgradeProblem says what is wrong with it.
    }
    const compatSocket = options.compat?.includes("chat-session") && path.startsWith(`${options.basePath}/`) && isChatSocketPath(path.slice(options.basePath.length));
    const problem = upgradeProblem(c.env.incoming, compatSocket ? path : wsPath);
    if (problem) return c.json({ error: "bad_request", message: problem }, 400);
    return root!.fetch(c.req.raw, c.env);
  });
  const { upgradeWebSocket, injectWebSocket, wss } = createNodeWebSocket({ app: upgrades });
  // The server only sends; @hono/node-ws makes its WebSocketServer without options, and ws
  // reads them at each upgrade, so the limit is set here (a bigger frame: close 1009).
  wss.options.maxPayload = MAX_CLIENT_FRAME_BYTES;
  root = await createWebApp({ ...options, upgradeWebSocket });

  const server: ServerType = await new Promise((resolve, reject) => {
    const started = serve(
      {
        fetch: root.fetch,
        hostname: options.host,
        port: options.port,
        serverOptions: {
          requestTimeout: options.requestTimeoutMs,
          headersTimeout: options.headersTimeoutMs,
          // Node checks the two timeouts this often (30 s by default, longer than they may be).
          connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(options.headersTimeoutMs / 4))),
        },
      },
      () => resolve(started),
    );
    // Set before the first connection (serve() has only just called listen): a balancer that
    // keeps idle connections longer than the server would send requests on closed ones (502s).
    // Node checks headersTimeout from each request's first byte, so idle time never counts
    // against it, and it can stay far below this. Responses announce it (`Keep-Alive: timeout=65`).
    (started as HttpServer).keepAliveTimeout = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
    started.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(new PortInUseError(`The web server can't listen on ${options.host}:${options.port}: the port is in use. Set adapters.web.port or CHATFLOW_WEB_PORT (0 picks a free port), or stop the other process.`));
      } else if (error.code === "EADDRNOTAVAIL" || error.code === "EACCES") {
        reject(new ConfigError(`The web server can't listen on ${options.host}:${options.port} (${error.code}): check adapters.web.host and adapters.web.port.`));
      } else reject(error);
    });
  });
  injectWebSocket(server as Parameters<typeof injectWebSocket>[0]);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${options.basePath}`,
    app: root,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open SSE streams keep connections alive; end them.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
