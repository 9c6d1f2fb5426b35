import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { errorBody, estimateTokens, send, type Json, type RecordedRequest } from "./protocol.ts";
import { kindOf, splitText, type CutReply, type ErrorReply, type HangReply, type Pacing, type Reply, type TextReply, type ToolCallsReply } from "./script.ts";
import { chunk, completion, SseWriter, toolCallDeltas, usageChunk, type CompletionIds, type Usage } from "./sse.ts";

/** Plays one reply on a response: streamed (SSE) when the request asked `stream: true`, else one JSON. */

export interface AnswerContext {
  res: ServerResponse;
  record: RecordedRequest;
  /** performance.now() when the request arrived. */
  start: number;
  ids: CompletionIds;
  /** A fresh tool call id (`call_<n>`). */
  callId: () => string;
  changed: () => void;
}

export async function play(reply: Reply, ctx: AnswerContext): Promise<void> {
  ctx.record.reply = kindOf(reply);
  if ("status" in reply) return void sendError(reply, ctx);
  await sleep((reply as Pacing).firstDelayMs);
  if (ctx.res.destroyed) return;
  if (!ctx.record.stream) return whole(reply, ctx);
  const out = new SseWriter(ctx.res, ctx.record, ctx.start, ctx.changed);
  if ("hang" in reply && reply.text === undefined) return;
  const withUsage = (ctx.record.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  out.head();
  out.event(chunk(ctx.ids, { role: "assistant", content: "", refusal: null }, null, withUsage));
  const deltas = deltasOf(reply, ctx);
  for (const [i, delta] of deltas.entries()) {
    if ("cut" in reply && i >= reply.afterChunks) return out.cut();
    if (i > 0) await sleep(reply.delayMs);
    if (!out.event(chunk(ctx.ids, delta, null, withUsage))) return;
  }
  if ("hang" in reply) return;
  const finish = "toolCalls" in reply ? "tool_calls" : ((reply as TextReply).finishReason ?? "stop");
  out.event(chunk(ctx.ids, {}, finish, withUsage));
  if (withUsage) out.event(usageChunk(ctx.ids, usageOf(reply, ctx.record)));
  out.event("[DONE]");
  out.end();
}

function deltasOf(reply: TextReply | ToolCallsReply | CutReply | HangReply, ctx: AnswerContext): Json[] {
  const text = splitText(reply.text ?? "", reply.chunkSize).map((content) => ({ content }));
  if (!("toolCalls" in reply)) return text;
  const calls = reply.toolCalls.flatMap((call, index) => toolCallDeltas(index, call.id ?? ctx.callId(), call.name, argumentsOf(call.arguments), reply.argumentChunkSize ?? 8));
  return [...text, ...calls];
}

/** A non-streaming answer: one chat.completion (a cut destroys the socket, a hang says nothing). */
function whole(reply: TextReply | ToolCallsReply | CutReply | HangReply, ctx: AnswerContext): void {
  if ("hang" in reply) return;
  if ("cut" in reply) {
    ctx.record.cut = true;
    ctx.res.destroy();
    ctx.changed();
    return;
  }
  const toolCalls = "toolCalls" in reply ? reply.toolCalls.map((call) => ({ id: call.id ?? ctx.callId(), type: "function", function: { name: call.name, arguments: argumentsOf(call.arguments) } })) : undefined;
  const message = toolCalls ? { content: reply.text ?? null, tool_calls: toolCalls } : { content: reply.text };
  const finish = toolCalls ? "tool_calls" : ((reply as TextReply).finishReason ?? "stop");
  const body = completion(ctx.ids, message, finish, usageOf(reply, ctx.record));
  ctx.record.status = 200;
  ctx.record.chunks.push({ ms: performance.now() - ctx.start, data: body });
  ctx.record.firstTokenMs = ctx.record.finishedMs = performance.now() - ctx.start;
  send(ctx.res, 200, body);
}

function sendError(reply: ErrorReply, ctx: AnswerContext): void {
  const headers: Record<string, string> = {};
  if (reply.retryAfter !== undefined) headers["Retry-After"] = String(reply.retryAfter);
  if (reply.retryAfterMs !== undefined) headers["retry-after-ms"] = String(reply.retryAfterMs);
  const rateLimited = reply.status === 429;
  const message = reply.message ?? (rateLimited ? "Rate limit reached for requests. Please try again later." : reply.status >= 500 ? "The server had an error while processing your request. Sorry about that!" : `Error ${reply.status}`);
  const type = reply.type ?? (rateLimited ? "requests" : reply.status >= 500 ? "server_error" : "invalid_request_error");
  ctx.record.status = reply.status;
  send(ctx.res, reply.status, errorBody(message, type, reply.code ?? (rateLimited ? "rate_limit_exceeded" : null)), headers);
}

function argumentsOf(args: unknown): string {
  return typeof args === "string" ? args : JSON.stringify(args);
}

function usageOf(reply: TextReply | ToolCallsReply | CutReply | HangReply, record: RecordedRequest): Usage {
  const prompt = estimateTokens(JSON.stringify(record.messages));
  const out = (reply.text ?? "") + ("toolCalls" in reply ? reply.toolCalls.map((c) => c.name + argumentsOf(c.arguments)).join("") : "");
  const completionTokens = estimateTokens(out);
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}

function sleep(ms: number | undefined): Promise<void> {
  return ms ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
