import { existsSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";

/** A Chromium already on the machine: `CHATFLOW_CHROMIUM`, else Debian's (apt-get install chromium). */
export const CHROMIUM = process.env.CHATFLOW_CHROMIUM ?? "/usr/bin/chromium";

/** Flags for a closed network: without them Chromium dials out at start (component updates, sync…) and the refusals are noisy. */
const QUIET = ["--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Headless Chromium for the page tests: the machine's own when there is one, otherwise the
 * headless build that comes from npm (@sparticuz/chromium, a dev dependency: unpacked into the
 * temp directory on first use), so `npm install && npm test` needs nothing else.
 */
export async function launchBrowser(): Promise<Browser> {
  const args = ["--headless", "--no-sandbox", "--disable-gpu", ...QUIET];
  if (existsSync(CHROMIUM)) return chromium.launch({ executablePath: CHROMIUM, args });
  const { default: packaged } = await import("@sparticuz/chromium");
  // Not the package's own args: they are for one-page serverless runs (--single-process ends the
  // browser with its first context) and turn web security off, which the CSP checks here need on.
  return chromium.launch({ executablePath: await packaged.executablePath(), args });
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
