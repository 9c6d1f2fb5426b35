import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { webhookCallback, type Bot } from "grammy";
import type { Logger } from "../../src/logger.ts";

export interface WebhookServerOptions {
  bot: Bot;
  host: string;
  port: number;
  path: string;
  /** Compared in constant time with X-Telegram-Bot-Api-Secret-Token; wrong or missing → 401. */
  secret: string;
  log: Logger;
  /**
   * How long one update may take before Telegram gets a 500 (and delivers it again; the
   * engine ignores the repeat). Default 10,000 ms, within Telegram's own patience.
   */
  timeoutMs?: number;
}

export interface WebhookServer {
  /** The port listened on (useful with port 0). */
  readonly port: number;
  /** Stops accepting updates and waits for the ones being handled. */
  close(): Promise<void>;
}

/** Thrown by the bot's middleware for an update it won't take now (stopping): answered 503. */
export class UpdateRefused extends Error {
  constructor() {
    super("The bot is stopping; Telegram will deliver this update again.");
    this.name = "UpdateRefused";
  }
}

/** Updates are small; anything much larger is not from Telegram. */
const MAX_BODY_BYTES = 1 << 20;

/**
 * A node:http server for Telegram's webhook, on grammy's `webhookCallback` (which checks the
 * secret token). Only `POST <path>` is served. The answer goes out once the engine recorded
 * the update, so an update is acknowledged only when it is safe.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const callback = webhookCallback(options.bot, "http", { secretToken: options.secret, onTimeout: "throw", timeoutMilliseconds: options.timeoutMs ?? 10_000 });
  const server: Server = createServer((req, res) => void serve(req, res));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== options.path) return end(res, 404, "not found");
    if (req.method !== "POST") return end(res, 405, "method not allowed", { Allow: "POST" });
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return end(res, 413, "payload too large");
    try {
      await callback(req, res);
    } catch (error) {
      if ((error as { error?: unknown }).error instanceof UpdateRefused) {
        if (!res.headersSent) end(res, 503, "stopping", { "Retry-After": "5" });
        return;
      }
      // Malformed JSON is never going to parse: 400, so Telegram does not resend it. Anything
      // else (a timeout) is 500, so Telegram delivers the update again.
      const malformed = error instanceof SyntaxError;
      options.log[malformed ? "debug" : "warn"]({ err: error }, malformed ? "webhook body is not JSON; ignored" : "webhook update failed; Telegram will resend it");
      if (!res.headersSent) end(res, malformed ? 400 : 500, malformed ? "malformed update" : "update not handled");
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function end(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...headers }).end(text);
}
