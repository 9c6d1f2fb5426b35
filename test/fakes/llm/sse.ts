import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Json, RecordedRequest } from "./protocol.ts";

/**
 * The wire of a chat completion, shaped as OpenAI sends it: `chat.completion.chunk` events over
 * SSE (`data: {...}\n\n`, then `data: [DONE]\n\n`) or one `chat.completion` JSON.
 */

/** What every chunk of one completion shares. */
export interface CompletionIds {
  id: string;
  created: number;
  model: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A `chat.completion.chunk` with one choice (`usage: null` when the client asked for usage, as OpenAI does). */
export function chunk(ids: CompletionIds, delta: Json, finishReason: string | null = null, withUsage = false): Json {
  return {
    id: ids.id, object: "chat.completion.chunk", created: ids.created, model: ids.model, system_fingerprint: "fp_fake",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsage ? { usage: null } : {}),
  };
}

/** The last chunk when `stream_options.include_usage`: `choices: []` and the usage. */
export function usageChunk(ids: CompletionIds, usage: Usage): Json {
  return { id: ids.id, object: "chat.completion.chunk", created: ids.created, model: ids.model, system_fingerprint: "fp_fake", choices: [], usage };
}

/** A tool call's first delta (id, type, name, no arguments yet) and the argument pieces after it. */
export function toolCallDeltas(index: number, id: string, name: string, args: string, pieceSize: number): Json[] {
  const deltas: Json[] = [{ tool_calls: [{ index, id, type: "function", function: { name, arguments: "" } }] }];
  for (let i = 0; i < args.length; i += Math.max(1, pieceSize)) deltas.push({ tool_calls: [{ index, function: { arguments: args.slice(i, i + Math.max(1, pieceSize)) } }] });
  return deltas;
}

/** A non-streaming `chat.completion`. */
export function completion(ids: CompletionIds, message: Json, finishReason: string, usage: Usage): Json {
  return {
    id: ids.id, object: "chat.completion", created: ids.created, model: ids.model, system_fingerprint: "fp_fake",
    choices: [{ index: 0, message: { role: "assistant", refusal: null, ...message }, logprobs: null, finish_reason: finishReason }],
    usage,
  };
}

/** Writes SSE events on a response and records each, with its time, on the request. */
export class SseWriter {
  readonly #res: ServerResponse;
  readonly #record: RecordedRequest;
  readonly #start: number;
  readonly #changed: () => void;
  #lastWrite: Promise<void> = Promise.resolve();

  constructor(res: ServerResponse, record: RecordedRequest, start: number, changed: () => void) {
    this.#res = res;
    this.#record = record;
    this.#start = start;
    this.#changed = changed;
  }

  /** The connection is gone (client abort, or cut by the fake). */
  get closed(): boolean {
    return this.#res.destroyed || this.#res.writableEnded;
  }

  head(): void {
    this.#record.status = 200;
    this.#res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", Connection: "keep-alive" });
    this.#res.flushHeaders();
  }

  /** Writes one event; false when the connection is already gone. */
  event(data: Json | "[DONE]"): boolean {
    if (this.closed) return false;
    this.#lastWrite = new Promise((resolve) => this.#res.write(`data: ${data === "[DONE]" ? data : JSON.stringify(data)}\n\n`, () => resolve()));
    const ms = performance.now() - this.#start;
    this.#record.chunks.push({ ms, data });
    if (this.#record.firstTokenMs === undefined && data !== "[DONE]" && carriesToken(data)) this.#record.firstTokenMs = ms;
    this.#changed();
    return true;
  }

  /** Destroys the socket once what was written has reached it (a stream cut half way). */
  async cut(): Promise<void> {
    await this.#lastWrite;
    this.#record.cut = true;
    this.#res.destroy();
    this.#changed();
  }

  end(): void {
    if (this.closed) return;
    this.#record.finishedMs = performance.now() - this.#start;
    this.#res.end();
    this.#changed();
  }
}

function carriesToken(data: Json): boolean {
  const delta = (data.choices as { delta?: { content?: unknown; tool_calls?: unknown } }[] | undefined)?.[0]?.delta;
  return (typeof delta?.content === "string" && delta.content !== "") || Array.isArray(delta?.tool_calls);
}
