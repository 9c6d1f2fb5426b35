import type { IncomingMessage } from "node:http";

/** RFC 6455 §4.1: 16 random bytes, base64 (what ws accepts). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** A comma list of tokens (RFC 7230 §3.2.6), for Sec-WebSocket-Protocol. */
const PROTOCOLS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/**
 * Why an upgrade request is not one the server takes, or undefined. Only a WebSocket
 * handshake (RFC 6455 §4.2.1: GET, `Upgrade: websocket`, a well-formed key and version) to
 * the WebSocket route goes on. Checked before @hono/node-ws sees the request: it runs any
 * upgrade through the app as a bodiless GET and discards the response (an event stream
 * opened so would never end), and it keeps a waiter for every upgrade its route accepts,
 * which ws's own refusal of a malformed handshake would leave behind.
 */
export function upgradeProblem(request: IncomingMessage, wsPath: string): string | undefined {
  let path: string;
  try {
    path = new URL(request.url ?? "/", "http://localhost").pathname;
  } catch {
    return "The request target is not a valid URL.";
  }
  if (path !== wsPath) return `Only ${wsPath} takes a WebSocket upgrade; ${path} is plain HTTP.`;
  if (request.method !== "GET") return "A WebSocket upgrade is a GET.";
  if ((request.headers.upgrade ?? "").toLowerCase() !== "websocket") return "Upgrade must be websocket.";
  const key = request.headers["sec-websocket-key"];
  if (typeof key !== "string" || !KEY.test(key)) return "Sec-WebSocket-Key is missing or malformed.";
  const version = request.headers["sec-websocket-version"];
  if (version !== "13" && version !== "8") return "Sec-WebSocket-Version must be 13.";
  const protocols = request.headers["sec-websocket-protocol"];
  if (protocols !== undefined) {
    const names = protocols.split(",").map((name) => name.trim());
    if (!PROTOCOLS.test(protocols.trim()) || new Set(names).size !== names.length) return "Sec-WebSocket-Protocol is malformed.";
  }
  return undefined;
}
