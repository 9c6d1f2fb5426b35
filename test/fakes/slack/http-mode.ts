import { createHmac } from "node:crypto";
import type { Json } from "./protocol.ts";

/**
 * Slack's HTTP delivery (the Events API / interactivity Request URL), signed as Slack signs:
 * `X-Slack-Signature: v0=hex(HMAC-SHA256(signingSecret, "v0:" + timestamp + ":" + rawBody))`
 * with `X-Slack-Request-Timestamp` (receivers refuse timestamps over 5 minutes old).
 */

/** `good`; `forged` (signed with another secret); `stale` (well signed, 6 minutes old); `none` (no signature headers). */
export type Signature = "good" | "forged" | "stale" | "none";

export function sign(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

/**
 * The raw body Slack posts for an envelope type: JSON for events (`events_api`, also
 * url_verification), form fields for `slash_commands`, `payload=<url-encoded JSON>` for
 * `interactive`.
 */
export function encodeForHttp(type: string, payload: unknown): { body: string; contentType: string } {
  if (type === "slash_commands") {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(payload as Json)) if (value !== undefined) form.set(key, String(value));
    return { body: form.toString(), contentType: "application/x-www-form-urlencoded" };
  }
  if (type === "interactive") return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: "application/x-www-form-urlencoded" };
  return { body: JSON.stringify(payload), contentType: "application/json" };
}

/** The envelope type a body would come in: events (event_callback, url_verification), a slash command (has `command`), or interactive. */
export function typeOf(body: unknown): string {
  const b = (body ?? {}) as Json;
  if (b.type === "event_callback" || b.type === "url_verification" || b.type === "app_rate_limited") return "events_api";
  if (typeof b.command === "string") return "slash_commands";
  return "interactive";
}

export interface PostOptions {
  secret: string;
  signature?: Signature;
  /** `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`, as on Slack's redeliveries. */
  retryNum?: number;
  retryReason?: string;
  /** Give up after this many ms (Slack waits 3 s). */
  timeoutMs?: number;
}

export interface PostResult {
  status: number;
  /** The answer's body: parsed JSON when it is JSON, else the text ("" when empty). */
  body: unknown;
  /** Time from sending to the whole answer. */
  latencyMs: number;
}

/** Posts `rawBody` to `url` signed as asked. A network error or timeout gives status 0. */
export async function postSigned(url: string, rawBody: string, contentType: string, options: PostOptions): Promise<PostResult> {
  const signature = options.signature ?? "good";
  const timestamp = Math.floor(Date.now() / 1000) - (signature === "stale" ? 6 * 60 : 0);
  const headers: Record<string, string> = { "Content-Type": contentType, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)" };
  if (signature !== "none") {
    headers["X-Slack-Request-Timestamp"] = String(timestamp);
    headers["X-Slack-Signature"] = sign(signature === "forged" ? `${options.secret}-forged` : options.secret, timestamp, rawBody);
  }
  if (options.retryNum !== undefined && options.retryNum > 0) {
    headers["X-Slack-Retry-Num"] = String(options.retryNum);
    headers["X-Slack-Retry-Reason"] = options.retryReason ?? "http_timeout";
  }
  const started = Date.now();
  try {
    const res = await fetch(url, { method: "POST", headers, body: rawBody, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get("content-type") ?? "").includes("json") && text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, body, latencyMs: Date.now() - started };
  } catch {
    return { status: 0, body: "", latencyMs: Date.now() - started };
  }
}
