import { lastUserText, type RecordedRequest } from "./protocol.ts";

/** What the fake answers: scripted replies, in order, then the default reply. */

/** How a streamed answer is paced. */
export interface Pacing {
  /** Characters per content chunk; default word by word (`"Hello", " world"`); `Infinity` = all at once. */
  chunkSize?: number;
  /** Delay before each chunk after the first (a slow stream), default 0. */
  delayMs?: number;
  /** Delay before the response headers (time to first byte), default 0. */
  firstDelayMs?: number;
}

/** A text answer: `finish_reason` "stop" (or "length"). */
export interface TextReply extends Pacing {
  text: string;
  finishReason?: "stop" | "length" | "content_filter";
}

/** One tool call: `arguments` an object (JSON-encoded) or a raw string (may be invalid JSON on purpose). */
export interface ToolCallSpec {
  name: string;
  arguments: unknown;
  /** Default `call_<n>` (unique within the fake). */
  id?: string;
}

/** Tool calls (optionally after some text): `finish_reason` "tool_calls"; arguments streamed in pieces of `argumentChunkSize` (default 8) characters. */
export interface ToolCallsReply extends Pacing {
  toolCalls: ToolCallSpec[];
  text?: string;
  argumentChunkSize?: number;
}

/** An HTTP error: 429 with Retry-After (seconds) / retry-after-ms, 500, 503... OpenAI's error body. */
export interface ErrorReply {
  status: number;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Sent as `retry-after-ms` (the AI SDK prefers it over Retry-After). */
  retryAfterMs?: number;
  message?: string;
  type?: string;
  code?: string;
}

/** A stream cut half way: the head and `afterChunks` content chunks of `text`, then the socket destroyed (non-streaming: destroyed at once). */
export interface CutReply extends Pacing {
  cut: true;
  text: string;
  afterChunks: number;
}

/** Never answers (timeout tests); with `text`, streams the head and that text first, then stalls. */
export interface HangReply extends Pacing {
  hang: true;
  text?: string;
}

export type Reply = TextReply | ToolCallsReply | ErrorReply | CutReply | HangReply;

/** A scripted entry: a reply, or a function of the request (its messages, tools...) returning one. */
export type ScriptEntry = Reply | ((request: RecordedRequest) => Reply | Promise<Reply>);

/** The default reply: the last user message, echoed word by word. */
export const echo: ScriptEntry = (request) => ({ text: lastUserText(request.messages) || "(no user message)" });

export function kindOf(reply: Reply): "text" | "tool_calls" | "error" | "cut" | "hang" {
  if ("hang" in reply) return "hang";
  if ("cut" in reply) return "cut";
  if ("status" in reply) return "error";
  if ("toolCalls" in reply) return "tool_calls";
  return "text";
}

/** The queue of scripted replies, consumed one per request that passed auth and model checks. */
export class Script {
  readonly #queue: ScriptEntry[] = [];
  defaultReply: ScriptEntry;

  constructor(defaultReply: ScriptEntry = echo) {
    this.defaultReply = defaultReply;
  }

  push(...entries: ScriptEntry[]): void {
    this.#queue.push(...entries);
  }

  /** Replies not used yet. */
  get pending(): number {
    return this.#queue.length;
  }

  clear(): void {
    this.#queue.length = 0;
  }

  async next(request: RecordedRequest): Promise<Reply> {
    const entry = this.#queue.shift() ?? this.defaultReply;
    return typeof entry === "function" ? entry(request) : entry;
  }
}

/** Splits text into content chunks: word by word (leading spaces kept) by default, else `size` characters. */
export function splitText(text: string, size?: number): string[] {
  if (text === "") return [];
  if (size === undefined) return text.match(/\s*\S+|\s+$/g) ?? [text];
  if (!Number.isFinite(size) || size >= text.length) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += Math.max(1, size)) out.push(text.slice(i, i + Math.max(1, size)));
  return out;
}
