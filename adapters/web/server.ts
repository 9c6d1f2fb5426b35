import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import { createApi, type ApiOptions } from "../../src/api/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { healthRoutes } from "../../src/api/routes/health.ts";
import type { ApiMetrics } from "../../src/api/metrics.ts";

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
  close(): Promise<void>;
}

/**
 * One HTTP server: the chat page at `/`, the API under `/api`, WebSocket events, `/healthz`
 * and `/metrics`, all under `basePath`.
 */
export async function startWebServer(options: ApiOptions & { host: string; port: number; basePath: string; metrics: ApiMetrics; adapterHealth: () => Record<string, { connected: boolean }> }): Promise<WebServer> {
  const page = await loadPage();
  const root = new Hono();
  const { upgradeWebSocket, injectWebSocket, wss } = createNodeWebSocket({ app: root });
  const site = new Hono();
  site.route("/", createApi({ ...options, upgradeWebSocket }));
  site.route("/", healthRoutes({ bot: options.bot, version: options.version, metrics: options.metrics, adapters: options.adapterHealth }));
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

  const server: ServerType = await new Promise((resolve, reject) => {
    const started = serve({ fetch: root.fetch, hostname: options.host, port: options.port }, () => resolve(started));
    started.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(new ConfigError(`The web server can't listen on ${options.host}:${options.port}: the port is in use. Set adapters.web.port or CHATFLOW_WEB_PORT (0 picks a free port), or stop the other process.`));
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
