import { existsSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's chromium (apt-get install chromium); the browser tests drive it with playwright-core. */
export const CHROMIUM = process.env.CHATFLOW_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Headless Chromium. Without the background-networking flags Chromium dials out at start
 * (component updates, sync…) and a closed network refuses those connections noisily.
 * Fails, never skips, when the browser is missing.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The web page tests need Chromium at ${CHROMIUM}, and it is missing: run \`apt-get install -y chromium\` (Debian) and run the tests again.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Problems the page reported: uncaught errors and Content-Security-Policy violations. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  return problems;
}

export interface FlakyProxy {
  /** The proxy's address plus the target's path (the page's URL through it). */
  url: string;
  /** The `Last-Event-ID` header (or none) of each live-feed request seen. */
  feedRequests: Array<string | undefined>;
  /** Cuts the open live-feed streams and refuses new ones (503) until `resume()`. */
  cut(): void;
  resume(): void;
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of the web server that can cut the live event streams,
 * as a dropped connection would, to see the page reconnect.
 */
export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const to = new URL(target);
  const streams = new Set<Socket>();
  const feedRequests: Array<string | undefined> = [];
  let refusing = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const isFeed = (req.url ?? "").includes("/api/v1/events");
    if (isFeed) {
      const last = req.headers["last-event-id"];
      feedRequests.push(Array.isArray(last) ? last[0] : last);
      if (refusing) {
        res.writeHead(503, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "unavailable", message: "cut by the test proxy" }));
        return;
      }
      streams.add(req.socket);
      req.socket.once("close", () => streams.delete(req.socket));
    }
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("error", () => res.destroy());
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${to.pathname === "/" ? "" : to.pathname}`,
    feedRequests,
    cut() {
      refusing = true;
      for (const socket of streams) socket.destroy();
      streams.clear();
    },
    resume() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
