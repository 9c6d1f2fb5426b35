/**
 * Reading a request straight from Node's IncomingMessage when the API runs on
 * @hono/node-server, which passes it as `c.env.incoming`. Hono's own accessors go through a
 * web Request: its Headers object and body stream are built on first use and were a large
 * part of a small request's cost. Elsewhere (tests with `app.request`, other runtimes) the
 * helpers fall back to Hono's accessors.
 */
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { ApiError } from "./errors.ts";

function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** A request header (`name` in lower case), the last one if it was sent more than once. */
export function headerOf(c: Context, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** A Node request's body as text, refused with 413 past `limit` bytes (without reading the rest). */
function readBody(incoming: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(incoming.headers["content-length"]);
    const tooLarge = () => new ApiError(413, "too_large", `The request body is over the limit of ${limit.toLocaleString("en-US")} bytes.`);
    if (declared > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        incoming.removeAllListeners("data");
        incoming.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    incoming.once("end", () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"));
    });
    incoming.once("error", reject);
    // A client that goes (or is cut off by the server's requestTimeout) before its body is
    // complete: settle, so the request's context is not kept waiting for an end that won't come.
    incoming.once("close", () => {
      if (!ended) reject(new ApiError(400, "bad_request", "The request body ended before its Content-Length."));
    });
  });
}

/**
 * The address a request comes from, for limits per client (failed sign-ins). With
 * `trustProxy`, the last entry of X-Forwarded-For (the address the proxy in front saw; the
 * entries before it are the client's to write); without, the socket's peer, which behind a
 * proxy is the proxy itself.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = headerOf(c, "x-forwarded-for")?.split(",").map((entry) => entry.trim()).filter(Boolean).at(-1);
    if (forwarded) return forwarded;
  }
  return incomingOf(c)?.socket?.remoteAddress ?? "unknown";
}

/**
 * On Node, reads the body from the socket's stream at once, under `limit`, and hands it to
 * Hono's body cache, so the validators never build the web Request's body stream. Returns
 * false elsewhere (the caller then limits the body its own way).
 */
export async function cacheBody(c: Context, limit: number): Promise<boolean> {
  const incoming = incomingOf(c);
  if (!incoming) return false;
  const text = await readBody(incoming, limit);
  // Hono keeps the promises of bodies read (its type says the values).
  const cache = c.req.bodyCache as Record<string, unknown>;
  cache.text = Promise.resolve(text);
  return true;
}
