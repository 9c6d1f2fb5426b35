import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { waitForCondition } from "../wait.ts";
import { play } from "./answer.ts";
import { checkRequest, describeRequest, errorBody, readBody, send, toolsOf, type ChatMessage, type Json, type RecordedRequest } from "./protocol.ts";
import { echo, Script, type Reply, type ScriptEntry } from "./script.ts";

/**
 * A fake OpenAI-compatible chat-completions server for tests: node:http on 127.0.0.1, port 0.
 * Serves `POST /v1/chat/completions` (streamed over SSE or one JSON) and `GET /v1/models`,
 * checks the Bearer key and the model, answers from a per-test script of replies (text, tool
 * calls, HTTP errors, cut streams, slow streams, hangs) and then with a default reply (the last
 * user message, echoed), and records every request with the timing of every chunk.
 */

export interface FakeLlmOptions {
  /** The accepted key. Default `sk-fake-0123456789abcdef`. */
  apiKey?: string;
  /** Known model ids. Default `["fake-model", "fake-model-mini"]`. */
  models?: string[];
  /** Model ids answered 403 (`"*"`: all). */
  forbidden?: string[];
  /** What answers when the script is empty. Default: echo the last user message word by word. */
  defaultReply?: ScriptEntry;
}

export class FakeLlm {
  /** The key the fake accepts (`createOpenAICompatible({ apiKey })`). */
  readonly apiKey: string;
  /** Known model ids (others → 404 model_not_found); may be changed during a test. */
  readonly models: Set<string>;
  /** Model ids (or `"*"`) answered 403 insufficient_permissions; may be changed during a test. */
  readonly forbidden: Set<string>;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** What doesn't fit the chat-completions shape (such requests are answered 400). */
  readonly violations: string[] = [];

  readonly #script: Script;
  readonly #events = new EventEmitter();
  readonly #server: Server;
  #origin = "";
  #calls = 0;

  constructor(options: FakeLlmOptions = {}) {
    this.apiKey = options.apiKey ?? "sk-fake-0123456789abcdef";
    this.models = new Set(options.models ?? ["fake-model", "fake-model-mini"]);
    this.forbidden = new Set(options.forbidden ?? []);
    this.#script = new Script(options.defaultReply ?? echo);
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#server.keepAliveTimeout = 120_000;
    this.#events.setMaxListeners(100);
  }

  /** Listens on 127.0.0.1 with a free port (startFakeLlm does this). */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** `http://127.0.0.1:PORT/v1`: what `createOpenAICompatible({ baseURL })` takes. */
  get baseURL(): string {
    return `${this.#origin}/v1`;
  }

  /** The first known model id. */
  get model(): string {
    return [...this.models][0] ?? "fake-model";
  }

  /** Queues replies, answered in order by the next requests that pass the key and model checks. */
  script(...entries: ScriptEntry[]): void {
    this.#script.push(...entries);
  }

  /** Scripted replies not used yet. */
  get pendingReplies(): number {
    return this.#script.pending;
  }

  /** Drops the scripted replies not used yet. */
  clearScript(): void {
    this.#script.clear();
  }

  /** What answers when the script is empty (default: echo the last user message). */
  set defaultReply(entry: ScriptEntry) {
    this.#script.defaultReply = entry;
  }

  /** Chat-completions requests only (not `/v1/models`), in order. */
  get completions(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith("/chat/completions"));
  }

  /** The last request, if any. */
  get lastRequest(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  /** Resolves with the first value of `condition` other than undefined/false (checked on every chunk and every 10 ms). */
  waitUntil<T>(condition: () => T | undefined | false, timeoutMs = 5000, what = "the condition"): Promise<T> {
    return waitForCondition(this.#events, condition, timeoutMs, what, () => `Requests: ${this.requests.slice(-20).map(describeRequest).join("; ") || "none"}.`);
  }

  /** Closes every connection (hanging ones too) and the server. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ---- the server ---------------------------------------------------------------------

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    const record = this.#record(req, start);
    const changed = () => void this.#events.emit("change");
    res.on("close", () => {
      if (res.writableFinished || record.cut) return;
      record.aborted = true;
      record.abortedMs = performance.now() - start;
      changed();
    });
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const reject = (status: number, kind: string, body: Json) => {
      record.status = status;
      record.reply = kind;
      send(res, status, body);
      changed();
    };
    if (record.auth !== "ok") {
      const message = record.auth === "missing" ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)." : "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.";
      return reject(401, "auth", errorBody(message, "invalid_request_error", "invalid_api_key"));
    }
    if (req.method === "GET" && url.pathname === "/v1/models") {
      return reject(200, "models", { object: "list", data: [...this.models].map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "fake" })) });
    }
    if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      this.violations.push(`#${record.n}: ${req.method} ${url.pathname} is not served (POST /v1/chat/completions)`);
      return reject(404, "invalid", errorBody(`Invalid URL (${req.method} ${url.pathname})`, "invalid_request_error", null));
    }
    this.#parse(record, raw);
    const problems = checkRequest(record.body);
    if (problems.length > 0) {
      this.violations.push(...problems.map((p) => `#${record.n}: ${p}`));
      return reject(400, "invalid", errorBody(problems.join("; "), "invalid_request_error", null));
    }
    const model = record.model!;
    if (!this.models.has(model)) return reject(404, "model", errorBody(`The model \`${model}\` does not exist or you do not have access to it.`, "invalid_request_error", "model_not_found"));
    if (this.forbidden.has(model) || this.forbidden.has("*")) return reject(403, "forbidden", errorBody(`You are not allowed to sample from this model (${model}).`, "invalid_request_error", "insufficient_permissions"));
    changed();
    let reply: Reply;
    try {
      reply = await this.#script.next(record);
    } catch (error) {
      this.violations.push(`#${record.n}: fake: a script entry threw: ${(error as Error).message}`);
      reply = { status: 500, message: `The fake's script entry threw: ${(error as Error).message}` };
    }
    const ids = { id: `chatcmpl-fake${record.n}`, created: Math.floor(Date.now() / 1000), model };
    await play(reply, { res, record, start, ids, callId: () => `call_${++this.#calls}`, changed });
    changed();
  }

  #record(req: IncomingMessage, start: number): RecordedRequest {
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (name !== "authorization" && value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    const record: RecordedRequest = {
      n: this.requests.length + 1, method: req.method ?? "GET", path: new URL(req.url ?? "/", "http://127.0.0.1").pathname, at: Date.now() - (performance.now() - start),
      headers, auth: bearer === undefined ? "missing" : bearer === this.apiKey ? "ok" : "wrong", body: undefined, model: undefined, messages: [],
      temperature: undefined, max_tokens: undefined, max_completion_tokens: undefined, tools: [], tool_choice: undefined, stream: false, stream_options: undefined,
      status: 0, chunks: [], cut: false, aborted: false,
    };
    this.requests.push(record);
    return record;
  }

  #parse(record: RecordedRequest, raw: string): void {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) record.body = parsed as Json;
    } catch {
      return;
    }
    const body = record.body ?? {};
    const number = (v: unknown) => (typeof v === "number" ? v : undefined);
    record.model = typeof body.model === "string" ? body.model : undefined;
    record.messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : [];
    record.temperature = number(body.temperature);
    record.max_tokens = number(body.max_tokens);
    record.max_completion_tokens = number(body.max_completion_tokens);
    record.tools = toolsOf(body);
    record.tool_choice = body.tool_choice;
    record.stream = body.stream === true;
    record.stream_options = body.stream_options as Json | undefined;
  }
}

/** Starts a fake OpenAI-compatible server on 127.0.0.1 with a free port. */
export function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  return new FakeLlm(options).listen();
}

export type { ChatMessage, RecordedChunk, RecordedRequest, RecordedTool } from "./protocol.ts";
export type { CutReply, ErrorReply, HangReply, Reply, ScriptEntry, TextReply, ToolCallSpec, ToolCallsReply } from "./script.ts";
