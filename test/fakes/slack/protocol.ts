import type { IncomingMessage, ServerResponse } from "node:http";

/** Shapes the fake Slack keeps and records, and small helpers of the wire. */

export type Json = Record<string, unknown>;

/** One Web API call, as the fake received and answered it. */
export interface RecordedCall {
  method: string;
  /** Parameters, decoded: JSON-encoded form fields (blocks, metadata, view...) parsed, `token` removed. */
  params: Json;
  /** `form` (application/x-www-form-urlencoded, WebClient's default), `json`, or `query` (GET). */
  encoding: "form" | "json" | "query";
  /** Which token authenticated the call. */
  tokenKind: "bot" | "app" | "none" | "unknown" | "revoked";
  /** Milliseconds since the epoch, when the request arrived. */
  at: number;
  /** HTTP status answered (0 for a dropped connection). */
  status: number;
  /** The Slack `error` answered, if any. */
  error?: string;
  /** The failure injected by a rule or the tier limiter, if any. */
  injected?: string;
}

/** A message as the fake keeps it (channel messages, thread replies, the bot's and people's). */
export interface FakeMessage {
  channel: string;
  ts: string;
  /** `bot` = this app's bot, `user` = a person, `other-bot` = another app's bot. */
  from: "bot" | "user" | "other-bot";
  /** Author user id (the bot's user id for the bot's messages). */
  user?: string;
  /** Set on bot messages (this bot's `bot.botId`, or another bot's id). */
  botId?: string;
  text: string;
  blocks?: Json[];
  metadata?: Json;
  /** The thread parent's ts, for replies and for parents that have replies. */
  threadTs?: string;
  /** Reply broadcast to the channel too. */
  broadcast?: boolean;
  /** Times chat.update (or a response_url replace, or a stream append) changed it. */
  edits: number;
  /** Streaming state for messages made by chat.startStream. */
  stream?: "streaming" | "stopped";
  reactions: Map<string, Set<string>>;
  deleted?: boolean;
}

/** An ephemeral message: seen by one user only, not in history. */
export interface FakeEphemeral {
  channel: string;
  user: string;
  ts: string;
  text: string;
  blocks?: Json[];
  threadTs?: string;
  edits: number;
  deleted?: boolean;
}

/** A modal as the fake keeps it. */
export interface FakeView {
  id: string;
  user: string;
  /** The view object as last given by views.open / views.update / an ack's response_action update. */
  view: Json;
  hash: string;
  rootViewId: string;
  externalId?: string;
  open: boolean;
  updates: number;
  /** The last response_action the app acked a view_submission with (errors, update, push, clear). */
  lastResponse?: Json;
}

/** A Socket Mode envelope the fake sent (or queued while no socket was open). */
export interface SentEnvelope {
  envelope_id: string;
  type: string;
  payload: unknown;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
  /** When it was written to a socket (0 while queued). */
  sentAt: number;
  /** The envelope this one retries. */
  retryOf?: string;
  acked: boolean;
}

/** An acknowledgement from the app (over the socket, or an HTTP-mode answer). */
export interface Ack {
  envelopeId: string;
  type: string;
  payload: Json;
  /** Time from sending the envelope to receiving the ack. */
  latencyMs: number;
  at: number;
}

/** A post to a response_url, or a slash-command/view ack that carried a response. */
export interface FakeResponse {
  /** The response_url id, or `ack`. */
  via: string;
  body: Json;
  status: number;
  at: number;
}

export function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(payload));
}

export { readBody } from "../http.ts";

/** `method(status error "text…")`, for timeout messages. */
export function describeCall(call: RecordedCall): string {
  const text = typeof call.params.text === "string" ? ` "${call.params.text.slice(0, 40).replace(/\n/g, " ")}"` : "";
  return `${call.method}(${call.status}${call.error ? ` ${call.error}` : ""}${text})`;
}

let lastMicros = 0;
/** A Slack timestamp ("1700000000.000100"): unique and increasing across the process. */
export function nextTs(): string {
  lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
  return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
}

let counter = 0;
/** A fresh id with a prefix, e.g. `id("Ev")` → "Ev0FAKE0000001". */
export function id(prefix: string): string {
  counter++;
  return `${prefix}0FAKE${String(counter).padStart(7, "0")}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Compares two Slack timestamps numerically. */
export function compareTs(a: string, b: string): number {
  return Number(a) - Number(b);
}
