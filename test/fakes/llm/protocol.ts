import type { IncomingMessage, ServerResponse } from "node:http";

/** Shapes the fake LLM records, the OpenAI error bodies, and the request checks (violations). */

export type Json = Record<string, unknown>;

/** A message of the `messages` array, as the client sent it (OpenAI chat-completions shape). */
export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  [key: string]: unknown;
}

/** A function tool the client offered: `tools[i].function`. */
export interface RecordedTool {
  name: string;
  description?: string;
  /** The JSON schema of the arguments (`function.parameters`). */
  parameters?: Json;
}

/** One SSE event written (or the JSON body of a non-streaming answer). */
export interface RecordedChunk {
  /** Milliseconds since the request arrived (fractional, from performance.now()). */
  ms: number;
  /** The event's data: a chat.completion.chunk, `[DONE]`, or a chat.completion. */
  data: Json | "[DONE]";
}

/** One request to the fake, as received and answered. */
export interface RecordedRequest {
  /** 1-based arrival number. */
  n: number;
  method: string;
  path: string;
  /** Milliseconds since the epoch, when the request arrived. */
  at: number;
  /** Request headers, lowercased, `authorization` removed. */
  headers: Record<string, string>;
  /** `ok`, `missing` (no Bearer) or `wrong` (another key). */
  auth: "ok" | "missing" | "wrong";
  /** The parsed body (undefined when it wasn't JSON). */
  body: Json | undefined;
  model: string | undefined;
  /** The `messages` array as received (roles, content, tool_calls, tool results). */
  messages: ChatMessage[];
  temperature: number | undefined;
  max_tokens: number | undefined;
  max_completion_tokens: number | undefined;
  /** The function tools offered (name, description, parameter schema). */
  tools: RecordedTool[];
  tool_choice: unknown;
  stream: boolean;
  stream_options: Json | undefined;
  /** HTTP status answered (0 while pending or when the socket was destroyed before an answer). */
  status: number;
  /** What answered: `text`, `tool_calls`, `error`, `cut`, `hang`, `auth`, `model`, `forbidden`, `invalid`, `models`. */
  reply?: string;
  /** Every SSE event (or the JSON answer) written, with its time. */
  chunks: RecordedChunk[];
  /** Ms since arrival of the first chunk carrying content or a tool call (first-token latency). */
  firstTokenMs?: number;
  /** Ms since arrival when the answer was complete (`[DONE]` written or JSON sent). */
  finishedMs?: number;
  /** The fake destroyed the socket on purpose (a `cut` reply). */
  cut: boolean;
  /** The client closed the connection before the answer was complete (abort, timeout). */
  aborted: boolean;
  /** Ms since arrival when the connection closed early. */
  abortedMs?: number;
}

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function errorBody(message: string, type: string, code: string | null, param: string | null = null): Json {
  return { error: { message, type, param, code } };
}

export function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(payload));
}

export { readBody } from "../http.ts";

const roles = new Set(["system", "user", "assistant", "tool"]);

/** What in a chat-completions body doesn't fit the shape; each problem is one string. */
export function checkRequest(body: Json | undefined): string[] {
  if (body === undefined) return ["the body is not a JSON object"];
  const problems: string[] = [];
  if (typeof body.model !== "string" || body.model === "") problems.push("missing model");
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    problems.push("missing messages (a non-empty array)");
    return problems;
  }
  const calls = new Set<string>();
  body.messages.forEach((raw: unknown, i: number) => {
    const m = (raw ?? {}) as ChatMessage;
    if (!roles.has(m.role)) problems.push(`messages[${i}]: role ${JSON.stringify(m.role)} is not system, user, assistant or tool`);
    for (const call of m.role === "assistant" ? (m.tool_calls ?? []) : []) {
      if (typeof call.id !== "string" || call.type !== "function" || typeof call.function?.name !== "string" || typeof call.function?.arguments !== "string") problems.push(`messages[${i}]: a tool call needs id, type "function", function.name and function.arguments (a string)`);
      else calls.add(call.id);
    }
    if (m.role === "tool") {
      if (typeof m.tool_call_id !== "string") problems.push(`messages[${i}]: a tool message without tool_call_id`);
      else if (!calls.has(m.tool_call_id)) problems.push(`messages[${i}]: a tool result for an unknown call ${m.tool_call_id}`);
    }
    if (m.role !== "assistant" && m.content === undefined) problems.push(`messages[${i}]: no content`);
  });
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) problems.push("tools is not an array");
    else body.tools.forEach((t: unknown, i: number) => {
      const tool = (t ?? {}) as { type?: string; function?: { name?: unknown } };
      if (tool.type !== "function" || typeof tool.function?.name !== "string") problems.push(`tools[${i}]: not {type: "function", function: {name, parameters}}`);
    });
  }
  if (body.stream_options !== undefined && body.stream !== true) problems.push("stream_options without stream: true");
  return problems;
}

/** The tools offered, as recorded. */
export function toolsOf(body: Json | undefined): RecordedTool[] {
  if (!Array.isArray(body?.tools)) return [];
  return body.tools.map((t: { function?: { name?: string; description?: string; parameters?: Json } }) => ({
    name: String(t.function?.name),
    ...(t.function?.description !== undefined ? { description: t.function.description } : {}),
    ...(t.function?.parameters !== undefined ? { parameters: t.function.parameters } : {}),
  }));
}

/** The text of a message's content (a string, or the text parts of an array). */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p: { type?: string; text?: string }) => (p.type === "text" ? (p.text ?? "") : "")).join("");
  return "";
}

/** The last user message's text ("" when there is none). */
export function lastUserText(messages: ChatMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === "user");
  return last ? textOf(last.content) : "";
}

/** A rough token count (4 characters a token), for `usage`. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** `#n model status reply (n chunks)`, for timeout messages. */
export function describeRequest(r: RecordedRequest): string {
  return `#${r.n} ${r.model ?? "?"} ${r.status} ${r.reply ?? "pending"}${r.stream ? ` (${r.chunks.length} chunks)` : ""}${r.aborted ? " aborted" : ""}`;
}
