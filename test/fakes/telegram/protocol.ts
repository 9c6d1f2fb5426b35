import type { IncomingMessage, ServerResponse } from "node:http";

/** The Bot API's wire shapes and answers, as the fake server speaks them. */

export type Json = Record<string, unknown>;

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  /** Milliseconds since the epoch, when the request arrived. */
  at: number;
  /** HTTP status answered (0 for a dropped connection). */
  status: number;
  /** The failure injected, if any. */
  injected?: Failure["kind"];
  description?: string;
}

export type Failure =
  | { kind: "rate-limit"; retryAfter: number }
  | { kind: "server-error"; status?: number }
  | { kind: "forbidden"; description?: string }
  | { kind: "bad-request"; description: string }
  | { kind: "unauthorized" }
  | { kind: "drop" };

export interface FailureRule {
  /** Method name, or `*` for every method. */
  method: string;
  failure: Failure;
  /** Fail this many matching calls (default 1)... */
  times?: number;
  /** ...or every matching call during this many ms from now. */
  forMs?: number;
  /** Only calls whose params match. */
  match?: (params: Record<string, unknown>) => boolean;
}

/** A message as the fake keeps it. */
export interface FakeMessage {
  message_id: number;
  chatId: number | string;
  from: "bot" | "user";
  /** Visible text (after entity parsing). */
  text: string;
  /** What the bot sent (HTML as given), or the user's text. */
  html: string;
  reply_markup?: Record<string, unknown>;
  threadId?: number;
  date: number;
  edits: number;
}

export const NOT_MODIFIED = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

export function failureAnswer(failure: Exclude<Failure, { kind: "drop" }>): [number, Json] {
  switch (failure.kind) {
    case "rate-limit":
      return [429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${failure.retryAfter}`, parameters: { retry_after: failure.retryAfter } }];
    case "server-error":
      return [failure.status ?? 502, { ok: false, error_code: failure.status ?? 502, description: "Bad Gateway" }];
    case "forbidden":
      return [403, { ok: false, error_code: 403, description: failure.description ?? "Forbidden: bot was blocked by the user" }];
    case "bad-request":
      return [400, { ok: false, error_code: 400, description: failure.description }];
    case "unauthorized":
      return [401, { ok: false, error_code: 401, description: "Unauthorized" }];
  }
}

export function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(payload));
}

export { readBody } from "../http.ts";

/** `method(status)`, with the start of the text for messages, for failure messages. */
export function describeCall(call: RecordedCall): string {
  const text = typeof call.params.text === "string" ? ` "${call.params.text.slice(0, 40).replace(/\n/g, " ")}"` : "";
  return `${call.method}(${call.status}${text})`;
}

export function now(): number {
  return Math.floor(Date.now() / 1000);
}
