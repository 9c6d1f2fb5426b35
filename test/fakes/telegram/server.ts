import { EventEmitter } from "node:events";
import { waitForCondition } from "../wait.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeCall, failureAnswer, NOT_MODIFIED, now, readBody, send, type FailureRule, type FakeMessage, type Json, type RecordedCall } from "./protocol.ts";
import { SpecValidator, visibleText } from "./spec.ts";
import { chatFor, entitiesOf, person, type FakeUser, type UserMessageOptions } from "./updates.ts";

/**
 * A fake Telegram Bot API server for tests: node:http on 127.0.0.1, port 0. Routes
 * `POST /bot<token>/<method>` like api.telegram.org, validates every call against the
 * official spec (violations are recorded, and answered with 400 as Telegram would), keeps
 * chats and their messages, serves getUpdates as a long poll honouring `offset`, delivers
 * updates to a webhook once one is set, and injects failures on demand.
 */

export interface FakeTelegramOptions {
  /** Default `123456789:TEST-fake_token_for_tests`. */
  token?: string;
  /** Default `chatflow_test_bot`. */
  botUsername?: string;
}

export class FakeTelegram {
  readonly token: string;
  readonly bot: FakeUser;
  /** Every call, in arrival order. */
  readonly calls: RecordedCall[] = [];
  /** Spec violations of the calls (and of updates queued with {@link queueUpdate}). */
  readonly violations: string[] = [];
  /** Chats where the bot was blocked (403) or that don't exist (400 chat not found). */
  readonly blocked = new Set<number | string>();
  readonly missing = new Set<number | string>();
  /** Supergroups that are forums (topics). */
  readonly forums = new Set<number>();
  /** Webhook registered with setWebhook, if any. */
  webhook: { url: string; secret?: string } | undefined;
  /** Status of each webhook delivery, in order. */
  readonly webhookDeliveries: Array<{ updateId: number; status: number }> = [];
  /** The commands set with setMyCommands. */
  commands: Array<{ command: string; description: string }> = [];
  /** Highest offset a getUpdates confirmed (updates below it are gone). */
  confirmedOffset = 0;

  readonly #spec = new SpecValidator();
  readonly #server: Server;
  readonly #events = new EventEmitter();
  readonly #updates: Json[] = [];
  readonly #polls = new Set<{ offset: number; limit: number; res: ServerResponse; timer: NodeJS.Timeout; client?: string }>();
  /**
   * getUpdates that came while another client's poll was held: two pollers at once, which
   * Telegram answers with 409. Clients tell themselves apart by an API root with a path
   * (`<apiRoot>/<client>`, so requests go to `/<client>/bot<token>/<method>`).
   */
  readonly pollConflicts: { client: string; other: string; at: number }[] = [];
  readonly #rules: Array<FailureRule & { until?: number; left: number }> = [];
  readonly #messages = new Map<string, Map<number, FakeMessage>>();
  /** Callback queries of presses: who pressed, and the answer (its text is shown to that person only). */
  readonly #queries = new Map<string, { userId: number; answered: boolean; text?: string; alert?: boolean }>();
  #nextUpdateId = 500_001;
  #nextMessageId = 100;
  #nextQueryId = 1;
  #webhookChain: Promise<void> = Promise.resolve();
  #port = 0;

  constructor(options: FakeTelegramOptions = {}) {
    this.token = options.token ?? "123456789:TEST-fake_token_for_tests";
    this.bot = { id: Number(this.token.split(":")[0]), is_bot: true, first_name: "chatflow test", username: options.botUsername ?? "chatflow_test_bot" };
    this.#server = createServer((req, res) => void this.#serve(req, res));
    // Longer than any test: an idle keep-alive socket closed by the server would make the
    // client's next request fail (ECONNRESET) and wait out auto-retry's backoff.
    this.#server.keepAliveTimeout = 120_000;
    this.#events.setMaxListeners(100);
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** The apiRoot to give grammy (no trailing slash). */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    for (const poll of this.#polls) this.#answerPoll(poll, []);
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ---- what tests do as Telegram's users --------------------------------------------

  /** Queues an update (validated against the spec's Update type); assigns update_id. */
  queueUpdate(update: Json): Json {
    const full = { update_id: this.#nextUpdateId++, ...update };
    for (const problem of this.#spec.validateType("Update", full, "update")) this.violations.push(`queued ${problem}`);
    this.#enqueue(full);
    return full;
  }

  /** Queues anything as an update, unvalidated (malformed updates); an update_id is added to objects without one. */
  queueRaw(raw: unknown): void {
    const value = raw !== null && typeof raw === "object" && !Array.isArray(raw) && !("update_id" in raw) ? { update_id: this.#nextUpdateId++, ...raw } : raw;
    this.#enqueue(value as Json);
  }

  /** A person writes `text`; returns the update. */
  userMessage(options: UserMessageOptions): Json {
    const userId = options.userId ?? options.chatId ?? 1001;
    const chatId = options.chatId ?? userId;
    const message: Json = {
      message_id: this.#nextMessageId++,
      from: person(userId),
      chat: chatFor(chatId, this.forums),
      date: now(),
      text: options.text,
      ...(options.threadId !== undefined ? { message_thread_id: options.threadId, is_topic_message: true } : {}),
      ...(options.replyTo ? { reply_to_message: options.replyTo } : {}),
    };
    const entities = entitiesOf(options.text);
    if (entities.length > 0) message.entities = entities;
    this.#store({ message_id: message.message_id as number, chatId, from: "user", text: options.text, html: options.text, date: now(), edits: 0, ...(options.threadId ? { threadId: options.threadId } : {}) });
    return this.queueUpdate({ message });
  }

  /** A person presses the button with `label` (or callback `data`) on a bot message; returns the callback query id. */
  press(options: { chatId: number; userId?: number; messageId: number; label?: string; data?: string }): string {
    const message = this.message(options.chatId, options.messageId);
    if (!message) throw new Error(`The fake has no message ${options.messageId} in chat ${options.chatId}.`);
    const rows = (message.reply_markup?.inline_keyboard ?? []) as Array<Array<{ text: string; callback_data?: string }>>;
    const button = rows.flat().find((b) => (options.label !== undefined ? b.text === options.label : b.callback_data === options.data));
    if (!button?.callback_data) throw new Error(`Message ${options.messageId} has no button ${options.label ?? options.data}; it has ${rows.flat().map((b) => b.text).join(", ") || "none"}.`);
    const id = `cq${this.#nextQueryId++}`;
    this.#queries.set(id, { userId: options.userId ?? options.chatId, answered: false });
    this.queueUpdate({
      callback_query: {
        id,
        from: person(options.userId ?? options.chatId),
        message: { message_id: message.message_id, from: this.bot, chat: chatFor(Number(options.chatId), this.forums), date: message.date, text: message.text, ...(message.reply_markup ? { reply_markup: message.reply_markup } : {}) },
        chat_instance: `ci${options.chatId}`,
        data: button.callback_data,
      },
    });
    return id;
  }

  /** Fails calls as described (429 storms, 5xx, 403, dropped connections). */
  fail(rule: FailureRule): void {
    this.#rules.push({ ...rule, left: rule.times ?? (rule.forMs !== undefined ? Infinity : 1), ...(rule.forMs !== undefined ? { until: Date.now() + rule.forMs } : {}) });
  }

  /** Cuts the connections of the getUpdates requests being held (a dropped network). */
  dropHeldPolls(): number {
    const held = [...this.#polls];
    for (const poll of held) {
      clearTimeout(poll.timer);
      this.#polls.delete(poll);
      poll.res.socket?.destroy();
    }
    return held.length;
  }

  // ---- what tests look at ---------------------------------------------------------------

  /** Calls of one method (answered with 2xx unless `all`). */
  callsOf(method: string, options: { all?: boolean } = {}): RecordedCall[] {
    return this.calls.filter((call) => call.method === method && (options.all || call.status === 200));
  }

  message(chatId: number | string, messageId: number): FakeMessage | undefined {
    return this.#messages.get(String(chatId))?.get(messageId);
  }

  /** The messages of a chat, oldest first, as they look now. */
  messages(chatId: number | string): FakeMessage[] {
    return [...(this.#messages.get(String(chatId))?.values() ?? [])].sort((a, b) => a.message_id - b.message_id);
  }

  botMessages(chatId: number | string): FakeMessage[] {
    return this.messages(chatId).filter((m) => m.from === "bot");
  }

  /** Whether a callback query was answered. */
  answered(queryId: string): boolean {
    return this.#queries.get(queryId)?.answered ?? false;
  }

  /** The notices a person saw on their own screen: callback answers with text (a toast, or an alert). */
  noticesFor(userId: number): Array<{ text: string; alert: boolean }> {
    return [...this.#queries.values()].filter((q) => q.userId === userId && q.text !== undefined).map((q) => ({ text: q.text!, alert: q.alert === true }));
  }

  /** Updates not yet confirmed by an offset. */
  get pendingUpdates(): number {
    return this.#updates.length;
  }

  /** Resolves with the first call (from all recorded so far) matching `match`. */
  waitForCall(match: (call: RecordedCall) => boolean, timeoutMs = 5000): Promise<RecordedCall> {
    return this.#waitFor(() => this.calls.find(match), timeoutMs, "a matching call");
  }

  /** Resolves once `condition` returns a value other than undefined/false. */
  waitUntil<T>(condition: () => T | undefined | false, timeoutMs = 5000, what = "the condition"): Promise<T> {
    return this.#waitFor(condition, timeoutMs, what);
  }

  #waitFor<T>(condition: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    return waitForCondition(this.#events, condition, timeoutMs, what, () => `Calls: ${this.calls.map(describeCall).join(" ")}`);
  }

  // ---- the server ---------------------------------------------------------------------

  #enqueue(update: Json): void {
    if (this.webhook) {
      this.#webhookChain = this.#webhookChain.then(() => this.#deliver(update));
      return;
    }
    this.#updates.push(update);
    for (const poll of [...this.#polls]) {
      const ready = this.#ready(poll.offset, poll.limit);
      if (ready.length > 0) this.#answerPoll(poll, ready);
    }
  }

  async #deliver(update: Json): Promise<void> {
    const hook = this.webhook;
    if (!hook) return;
    let status = 0;
    try {
      const res = await fetch(hook.url, { method: "POST", headers: { "Content-Type": "application/json", ...(hook.secret ? { "X-Telegram-Bot-Api-Secret-Token": hook.secret } : {}) }, body: JSON.stringify(update) });
      status = res.status;
      await res.text();
    } catch {
      status = 0;
    }
    this.webhookDeliveries.push({ updateId: Number(update.update_id), status });
    this.#events.emit("change");
  }

  #ready(offset: number, limit: number): Json[] {
    return this.#updates.filter((u) => typeof u.update_id !== "number" || u.update_id >= offset).slice(0, limit);
  }

  #answerPoll(poll: { res: ServerResponse; timer: NodeJS.Timeout }, updates: Json[]): void {
    clearTimeout(poll.timer);
    this.#polls.delete(poll as never);
    if (!poll.res.writableEnded && !poll.res.destroyed) send(poll.res, 200, { ok: true, result: updates });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const body = await readBody(req);
    const match = /^(?:\/([A-Za-z0-9_-]+))?\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? "").split("?", 1)[0]!);
    if (!match) return send(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    const [, client, token, method = ""] = match;
    let params: Json = {};
    if (body.trim() !== "") {
      try {
        params = JSON.parse(body) as Json;
      } catch {
        this.violations.push(`${method}: body is not JSON`);
        return send(res, 400, { ok: false, error_code: 400, description: "Bad Request: invalid JSON" });
      }
    }
    const call: RecordedCall = { method, params, at, status: 200 };
    const answer = (status: number, payload: Json) => {
      call.status = status;
      if (payload.ok === false) call.description = String(payload.description);
      this.calls.push(call);
      send(res, status, payload);
      this.#events.emit("change");
    };
    if (token !== this.token) return answer(401, { ok: false, error_code: 401, description: "Unauthorized" });
    if (!this.#spec.hasMethod(method)) return answer(404, { ok: false, error_code: 404, description: "Not Found: method not found" });
    const problems = this.#spec.validateCall(method, params);
    if (problems.length > 0) {
      this.violations.push(...problems);
      return answer(400, { ok: false, error_code: 400, description: `Bad Request: ${problems[0]}` });
    }
    const rule = this.#rules.find((r) => (r.method === "*" || r.method === method) && r.left > 0 && (r.until === undefined || Date.now() < r.until) && (!r.match || r.match(params)));
    if (rule) {
      rule.left--;
      call.injected = rule.failure.kind;
      const failure = rule.failure;
      if (failure.kind === "drop") {
        call.status = 0;
        this.calls.push(call);
        this.#events.emit("change");
        req.socket.destroy();
        return;
      }
      return answer(...failureAnswer(failure));
    }
    if (method === "getUpdates") return this.#getUpdates(params, call, res, client);
    const [status, payload] = this.#handle(method, params);
    answer(status, payload);
  }

  #getUpdates(params: Json, call: RecordedCall, res: ServerResponse, client?: string): void {
    const emit = () => {
      this.calls.push(call);
      this.#events.emit("change");
    };
    if (this.webhook) {
      call.status = 409;
      emit();
      return send(res, 409, { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" });
    }
    const offset = typeof params.offset === "number" ? params.offset : 0;
    if (offset > 0) {
      // Confirms (forgets) every update below the offset.
      this.confirmedOffset = Math.max(this.confirmedOffset, offset);
      const kept = this.#updates.filter((u) => typeof u.update_id !== "number" || u.update_id >= offset);
      this.#updates.splice(0, this.#updates.length, ...kept);
    }
    // A newer getUpdates ends an older one, as on Telegram (409 there; an empty answer here,
    // since grammy's own stop() overlaps its aborted poll).
    for (const poll of [...this.#polls]) {
      if (poll.client !== client) {
        this.pollConflicts.push({ client: client ?? "", other: poll.client ?? "", at: Date.now() });
        call.status = 409;
        emit();
        return send(res, 409, { ok: false, error_code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" });
      }
      this.#answerPoll(poll, []);
    }
    const limit = typeof params.limit === "number" ? params.limit : 100;
    const ready = this.#ready(offset, limit);
    const timeout = typeof params.timeout === "number" ? params.timeout : 0;
    if (ready.length > 0 || timeout <= 0) {
      emit();
      return send(res, 200, { ok: true, result: ready });
    }
    const poll = { offset, limit, res, client, timer: setTimeout(() => this.#answerPoll(poll, []), timeout * 1000) };
    this.#polls.add(poll);
    res.on("close", () => {
      clearTimeout(poll.timer);
      this.#polls.delete(poll);
    });
    // Recorded once held, so a test waiting for "a poll is held" sees it.
    emit();
  }

  #handle(method: string, p: Json): [number, Json] {
    const ok = (result: unknown): [number, Json] => [200, { ok: true, result }];
    const chatId = p.chat_id as number | string | undefined;
    if (chatId !== undefined && this.blocked.has(chatId)) return failureAnswer({ kind: "forbidden" });
    if (chatId !== undefined && this.missing.has(chatId)) return [400, { ok: false, error_code: 400, description: "Bad Request: chat not found" }];
    switch (method) {
      case "getMe":
        return ok({ ...this.bot, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      case "deleteWebhook":
        this.webhook = undefined;
        return ok(true);
      case "setWebhook":
        this.webhook = p.url ? { url: String(p.url), ...(p.secret_token ? { secret: String(p.secret_token) } : {}) } : undefined;
        return ok(true);
      case "getWebhookInfo":
        return ok({ url: this.webhook?.url ?? "", has_custom_certificate: false, pending_update_count: this.#updates.length });
      case "setMyCommands":
        this.commands = p.commands as typeof this.commands;
        return ok(true);
      case "getMyCommands":
        return ok(this.commands);
      case "sendChatAction":
      case "close":
      case "logOut":
        return ok(true);
      case "answerCallbackQuery": {
        const query = this.#queries.get(String(p.callback_query_id));
        if (!query || query.answered) return [400, { ok: false, error_code: 400, description: "Bad Request: query is too old and response timeout expired or query ID is invalid" }];
        query.answered = true;
        if (typeof p.text === "string" && p.text !== "") query.text = p.text;
        if (p.show_alert === true) query.alert = true;
        return ok(true);
      }
      case "sendMessage": {
        const text = visibleText(String(p.text), p.parse_mode);
        const markup = p.reply_markup as Json | undefined;
        const message: FakeMessage = {
          message_id: this.#nextMessageId++,
          chatId: chatId!,
          from: "bot",
          text: text.ok ? text.text : String(p.text),
          html: String(p.text),
          date: now(),
          edits: 0,
          ...(markup && "inline_keyboard" in markup ? { reply_markup: markup } : {}),
          ...(typeof p.message_thread_id === "number" ? { threadId: p.message_thread_id } : {}),
        };
        this.#store(message);
        return ok(this.#messageObject(message));
      }
      case "editMessageText": {
        const message = this.message(chatId!, Number(p.message_id));
        if (!message || message.from !== "bot") return [400, { ok: false, error_code: 400, description: "Bad Request: message to edit not found" }];
        const text = visibleText(String(p.text), p.parse_mode);
        const markup = p.reply_markup as { inline_keyboard?: unknown[] } | undefined;
        const keyboard = markup?.inline_keyboard && markup.inline_keyboard.length > 0 ? (markup as Json) : undefined;
        if (message.html === String(p.text) && JSON.stringify(message.reply_markup) === JSON.stringify(keyboard)) return [400, { ok: false, error_code: 400, description: NOT_MODIFIED }];
        message.text = text.ok ? text.text : String(p.text);
        message.html = String(p.text);
        message.edits++;
        if (keyboard) message.reply_markup = keyboard;
        else delete message.reply_markup;
        return ok({ ...this.#messageObject(message), edit_date: now() });
      }
      default:
        this.violations.push(`${method}: the fake does not implement it (chatflow should not call it)`);
        return [400, { ok: false, error_code: 400, description: `Bad Request: ${method} is not supported by the fake` }];
    }
  }

  #messageObject(message: FakeMessage): Json {
    const chat = typeof message.chatId === "number" ? chatFor(message.chatId, this.forums) : { id: -1009999, type: "channel", title: String(message.chatId) };
    return {
      message_id: message.message_id,
      from: this.bot,
      chat,
      date: message.date,
      text: message.text,
      ...(message.threadId !== undefined ? { message_thread_id: message.threadId, is_topic_message: true } : {}),
      ...(message.reply_markup ? { reply_markup: message.reply_markup } : {}),
    };
  }

  #store(message: FakeMessage): void {
    const key = String(message.chatId);
    let chat = this.#messages.get(key);
    if (!chat) this.#messages.set(key, (chat = new Map()));
    chat.set(message.message_id, message);
  }
}

/** Starts a fake on 127.0.0.1 with a free port. */
export function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  return new FakeTelegram(options).listen();
}

export type { Failure, FailureRule, FakeMessage, RecordedCall } from "./protocol.ts";
