import { EventEmitter } from "node:events";
import { waitForCondition } from "../wait.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Failures, type FailureAnswer, type FailureRule, type RateLimit } from "./failures.ts";
import { encodeForHttp, postSigned, typeOf, type PostResult, type Signature } from "./http-mode.ts";
import { answer } from "./methods.ts";
import { People, type Delivered, type Interaction, type MessageOptions, type PressOptions } from "./people.ts";
import { describeCall, readBody, send, type Ack, type FakeEphemeral, type FakeMessage, type FakeResponse, type FakeView, type Json, type RecordedCall, type SentEnvelope } from "./protocol.ts";
import { applyResponse, applyViewResponse } from "./responses.ts";
import { SocketMode } from "./socket-mode.ts";
import { SpecValidator } from "./spec.ts";
import { Store, type Identity } from "./store.ts";
import type { WebApiContext } from "./web-api.ts";

/**
 * A fake Slack for tests: node:http on 127.0.0.1, port 0. Serves the Web API at
 * `POST /api/<method>` (form or JSON bodies, bearer or form token), validating every call
 * against Slack's Web API spec and Block Kit limits (problems land in `violations`); a Socket
 * Mode server on the same port (`/socket`); response_urls (`/response/<id>`); and the people
 * of a workspace (mentions, messages, slash commands, button presses, modal submissions).
 * Failures (429 with Retry-After, 5xx, dropped connections, Slack errors) on demand.
 */

export interface FakeSlackOptions {
  /** Default `xoxb-0000000000-fake-bot-token`. */
  botToken?: string;
  /** Default `xapp-1-A0APPFAKE1-0000-fake-app-token`. */
  appToken?: string;
  /** Default `fake-signing-secret-0123456789abcdef`. */
  signingSecret?: string;
  team?: Partial<Identity["team"]>;
  bot?: Partial<Identity["bot"]>;
  /** Per-method rate limits, e.g. `{ "chat.update": { perMinute: 50 } }` (none by default). */
  rateLimits?: Record<string, RateLimit>;
  /** How long a trigger_id works (default 3000 ms, Slack's). */
  triggerTtlMs?: number;
  /** Acks this late or later are violations (default 3000 ms, Slack's). */
  ackDeadlineMs?: number;
}

export class FakeSlack {
  /** Bot token (`xoxb-…`): what `new App({ token })` takes. */
  readonly botToken: string;
  /** App-level token (`xapp-…`): Socket Mode's `appToken`. */
  readonly appToken: string;
  /** Signs HTTP-mode deliveries; what the app's `signingSecret` must be. */
  readonly signingSecret: string;
  /** The workspace. */
  readonly team: Identity["team"];
  /** The app's bot: `userId` (what mentions tag), `botId` (on its messages), `appId`, `name`. */
  readonly bot: Identity["bot"];
  /** Every Web API call, in arrival order. */
  readonly calls: RecordedCall[] = [];
  /** What Slack would refuse or the docs forbid (adapter tests assert this stays empty). */
  readonly violations: string[] = [];
  /** Accepted but discouraged (e.g. blocks without fallback text). */
  readonly warnings: string[] = [];
  /** Posts to response_urls, and slash-command acks that carried a message (`via: "ack"`). */
  readonly responses: FakeResponse[] = [];
  /** Channel ids where the bot isn't a member (→ not_in_channel). */
  readonly notInChannel = new Set<string>();
  /** Archived channel ids (writes → is_archived). */
  readonly archived = new Set<string>();
  /** Channel ids that don't exist (→ channel_not_found). */
  readonly missing = new Set<string>();

  readonly #identity: Identity;
  readonly #spec = new SpecValidator();
  readonly #store = new Store();
  readonly #failures = new Failures();
  readonly #events = new EventEmitter();
  readonly #server: Server;
  readonly #socket: SocketMode;
  readonly #people: People;
  readonly #ctx: WebApiContext;
  #revoked = false;

  constructor(options: FakeSlackOptions = {}) {
    this.botToken = options.botToken ?? "xoxb-0000000000-fake-bot-token";
    this.appToken = options.appToken ?? "xapp-1-A0APPFAKE1-0000-fake-app-token";
    this.signingSecret = options.signingSecret ?? "fake-signing-secret-0123456789abcdef";
    this.team = { id: "T0FAKETEAM", domain: "chatflow-test", name: "chatflow test", ...options.team };
    this.bot = { userId: "U0BOTFAKE1", botId: "B0BOTFAKE1", appId: "A0APPFAKE1", name: "chatflow", ...options.bot };
    this.#identity = { team: this.team, bot: this.bot, botToken: this.botToken, appToken: this.appToken, signingSecret: this.signingSecret, origin: "" };
    const changed = () => this.#events.emit("change");
    this.#ctx = {
      store: this.#store, identity: this.#identity, notInChannel: this.notInChannel, archived: this.archived, missing: this.missing, triggerTtlMs: options.triggerTtlMs ?? 3000,
      violation: (text) => void this.violations.push(text), warning: (text) => void this.warnings.push(text),
    };
    this.#socket = new SocketMode({ appId: this.bot.appId, signingSecret: this.signingSecret, onAck: (ack, envelope) => this.#onAck(ack, envelope), violation: this.#ctx.violation, changed });
    if (options.ackDeadlineMs !== undefined) this.#socket.ackDeadlineMs = options.ackDeadlineMs;
    this.#people = new People(this.#identity, this.#store, this.#socket, () => this.#identity.origin, this.notInChannel);
    for (const [method, limit] of Object.entries(options.rateLimits ?? {})) this.#failures.limit(method, limit);
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#server.on("upgrade", (req, socket, head) => this.#socket.upgrade(req, socket, head));
    // Longer than any test: a keep-alive socket closed by the server would fail the client's next call.
    this.#server.keepAliveTimeout = 120_000;
    this.#events.setMaxListeners(100);
  }

  /** Listens on 127.0.0.1 with a free port (startFakeSlack does this). */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#identity.origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** `http://127.0.0.1:PORT/api/`: what Bolt's `clientOptions.slackApiUrl` takes (trailing slash included). */
  get apiUrl(): string {
    return `${this.#identity.origin}/api/`;
  }

  /** `http://127.0.0.1:PORT`. */
  get origin(): string {
    return this.#identity.origin;
  }

  /** Closes Socket Mode connections (with a close frame, then abruptly after 500 ms) and the server. */
  async close(): Promise<void> {
    await this.#socket.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ---- the workspace's settings and failures ---------------------------------------------

  /** Revokes the bot token (the app was uninstalled): every bot call answers `account_inactive`. */
  revoke(): void {
    this.#revoked = true;
  }

  /** Fails calls as described: 429 storms, 5xx, dropped connections, any Slack error. */
  fail(rule: FailureRule): void {
    this.#failures.add(rule);
  }

  /** Sets a method's rate limit (Slack's tiers, e.g. chat.update `{ perMinute: 50 }`); `undefined` removes it. */
  rateLimit(method: string, limit: RateLimit | undefined): void {
    this.#failures.limit(method, limit);
  }

  /** Acks this late or later are violations (default 3000 ms, Slack's ack deadline). */
  get ackDeadlineMs(): number {
    return this.#socket.ackDeadlineMs;
  }
  set ackDeadlineMs(ms: number) {
    this.#socket.ackDeadlineMs = ms;
  }

  /** Delivers from now on over HTTP to the app's Request URL (signed), or with `undefined` over Socket Mode again. */
  deliverOverHttp(url: string | undefined): void {
    this.#socket.httpTarget = url;
  }

  // ---- what people do (each returns the ids to assert on) ------------------------------------

  /** A channel message mentioning the bot: a `message` event and an `app_mention` event with the same ts (different event_ids). */
  mention(o: Omit<MessageOptions, "channelType">): Delivered {
    return this.#people.mention(o);
  }
  /**
   * A person's message (DMs: a D… channel, `channel_type: "im"`); mentions of the bot in channels
   * also deliver `app_mention`; in a `notInChannel` channel nothing is delivered.
   */
  userMessage(o: MessageOptions): Delivered {
    return this.#people.userMessage(o);
  }
  /** A person edits a message of theirs: `message_changed`. */
  editMessage(o: { channel: string; ts: string; text: string }): Delivered {
    return this.#people.editMessage(o);
  }
  /** A person deletes a message of theirs: `message_deleted`. */
  deleteMessage(o: { channel: string; ts: string }): Delivered {
    return this.#people.deleteMessage(o);
  }
  /** A person joins a channel: a `channel_join` message event. */
  channelJoin(o: { channel: string; user: string }): Delivered {
    return this.#people.channelJoin(o);
  }
  /** Another app's bot message (`subtype: "bot_message"`), or with `own: true` this bot's own post echoed back. */
  botMessage(o: { channel: string; text: string; threadTs?: string; botId?: string; own?: boolean }): Delivered {
    return this.#people.botMessage(o);
  }
  /** A slash command: a fresh trigger_id and a response_url on the fake (5 uses in 30 min). */
  slashCommand(o: { command: string; text?: string; user: string; channel: string }): Interaction {
    return this.#people.slashCommand(o);
  }
  /** A button press (by label or action_id) on a message, an ephemeral of the user, or an open modal (no response_url there): `block_actions`. */
  press(o: PressOptions): Interaction & { actionTs: string } {
    return this.#people.press(o);
  }
  /** Submits an open modal with values by block_id or action_id: `view_submission`. */
  submitView(o: { viewId: string; user?: string; values?: Record<string, string | string[] | null> }): { envelopeId: string; triggerId: string; values: Json } {
    return this.#people.submitView(o);
  }
  /** Closes an open modal (`view_closed` if it asked for notify_on_close; returns its envelope id). */
  closeView(o: { viewId: string; user?: string }): string | undefined {
    return this.#people.closeView(o);
  }
  /** Delivers any envelope (e.g. a shortcut) as is: `events_api`, `slash_commands`, `interactive`... */
  sendEnvelope(type: string, payload: unknown): SentEnvelope {
    return this.#socket.send(type, payload);
  }
  /** Writes anything on the open socket (malformed envelopes); strings go raw. */
  sendRaw(data: unknown): void {
    this.#socket.sendRaw(data);
  }
  /** Resends unacked events_api envelopes as Slack's retries (retry_attempt + 1, same event_id); returns them. */
  retryUnacked(reason = "timeout"): SentEnvelope[] {
    return this.#socket.retryUnacked(reason);
  }
  /** Closes every Socket Mode connection abruptly; returns how many. */
  dropSockets(): number {
    return this.#socket.dropSockets();
  }
  /** Sends `{"type":"disconnect","reason":"refresh_requested"}` on every connection; returns how many. */
  requestRefresh(reason = "refresh_requested"): number {
    return this.#socket.requestRefresh(reason);
  }

  /**
   * Posts a body to an HTTP-mode app as Slack would, signed (`good`), forged, stale or unsigned:
   * objects go as JSON (event_callback, url_verification), form fields (slash commands: have
   * `command`) or `payload=` (interactive); a string goes raw with `contentType`.
   */
  postEvent(url: string, body: unknown, options: { signature?: Signature; contentType?: string; retryNum?: number } = {}): Promise<PostResult> {
    const encoded = typeof body === "string" ? { body, contentType: options.contentType ?? "application/json" } : encodeForHttp(typeOf(body), body);
    return postSigned(url, encoded.body, encoded.contentType, { secret: this.signingSecret, signature: options.signature ?? "good", ...(options.retryNum ? { retryNum: options.retryNum } : {}) });
  }

  // ---- what tests look at ---------------------------------------------------------------

  /** Calls of one method (answered `ok: true` unless `all`). */
  callsOf(method: string, options: { all?: boolean } = {}): RecordedCall[] {
    return this.calls.filter((call) => call.method === method && (options.all || (call.status === 200 && call.error === undefined)));
  }
  /** Calls answered 429 (rules and the rate limiter): a benchmark can assert there were none. */
  get rateLimitedCalls(): RecordedCall[] {
    return this.calls.filter((call) => call.status === 429);
  }
  /** A channel's messages as they look now, oldest first; with `threadTs`, that thread (parent first). */
  messages(channel: string, options: { threadTs?: string } = {}): FakeMessage[] {
    return options.threadTs !== undefined ? this.#store.thread(channel, options.threadTs) : this.#store.all(channel);
  }
  /** The bot's messages in a channel (or a thread), oldest first. */
  botMessages(channel: string, options: { threadTs?: string } = {}): FakeMessage[] {
    return this.messages(channel, options).filter((m) => m.from === "bot");
  }
  /** One message as it looks now (deleted ones too, with `deleted: true`). */
  message(channel: string, ts: string): FakeMessage | undefined {
    return this.#store.message(channel, ts);
  }
  /** Ephemeral messages one person saw (not deleted), oldest first. */
  ephemerals(user: string, channel?: string): FakeEphemeral[] {
    return this.#store.ephemerals.filter((e) => e.user === user && !e.deleted && (channel === undefined || e.channel === channel));
  }
  /** Modals opened by the app, by view id (open and closed). */
  get views(): ReadonlyMap<string, FakeView> {
    return this.#store.views;
  }
  /** assistant.threads.setStatus calls, in order. */
  get statuses(): Store["statuses"] {
    return this.#store.statuses;
  }
  /** Every envelope delivered (Socket Mode or HTTP), retries included. */
  get envelopes(): readonly SentEnvelope[] {
    return this.#socket.envelopes;
  }
  /** Acks received, with latency from sending. */
  get acks(): readonly Ack[] {
    return this.#socket.acks;
  }
  /** Socket Mode connections that got a hello, ever. */
  get connections(): number {
    return this.#socket.connections;
  }
  /** Socket Mode connections open now. */
  get openSockets(): number {
    return this.#socket.openSockets;
  }

  /** Resolves once `condition` returns something other than undefined/false. */
  waitUntil<T>(condition: () => T | undefined | false, timeoutMs = 5000, what = "the condition"): Promise<T> {
    return waitForCondition(this.#events, condition, timeoutMs, what, () => this.#summary());
  }
  /** The first call (from all recorded so far) matching. */
  waitForCall(match: (call: RecordedCall) => boolean, timeoutMs = 5000): Promise<RecordedCall> {
    return this.waitUntil(() => this.calls.find(match), timeoutMs, "a matching call");
  }
  /** The ack of an envelope. */
  waitForAck(envelopeId: string, timeoutMs = 5000): Promise<Ack> {
    return this.waitUntil(() => this.acks.find((a) => a.envelopeId === envelopeId), timeoutMs, `the ack of ${envelopeId}`);
  }
  /**
   * Resolves when `count` connections (default 1) got a hello and one is open (Bolt waits ~5 s
   * before reconnecting). The app handles the hello a moment later: before stopping an app that
   * just reconnected, deliver something and wait for its ack (Bolt 5.1 stopped mid-handshake
   * leaves an unhandled rejection).
   */
  waitForConnection(options: { count?: number; timeoutMs?: number } = {}): Promise<number> {
    const count = options.count ?? 1;
    return this.waitUntil(() => this.connections >= count && this.openSockets > 0 && this.connections, options.timeoutMs ?? 15_000, `Socket Mode connection #${count}`);
  }

  #summary(): string {
    const acked = this.envelopes.filter((e) => e.acked).length;
    return `Socket: ${this.openSockets} open, ${this.connections} ever; envelopes ${this.envelopes.length} (${acked} acked). Calls: ${this.calls.slice(-30).map(describeCall).join(" ")}`;
  }

  // ---- the server ---------------------------------------------------------------------

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    const api = /^\/api\/([\w.]+)$/.exec(url.pathname);
    if (api) return this.#webApi(api[1]!, req, res, raw, url, at);
    const response = /^\/response\/([\w-]+)$/.exec(url.pathname);
    if (response && req.method === "POST") return this.#responseUrl(response[1]!, res, raw);
    send(res, 404, { ok: false, error: "not_found" });
  }

  #webApi(method: string, req: IncomingMessage, res: ServerResponse, raw: string, url: URL, at: number): void {
    const type = String(req.headers["content-type"] ?? "");
    const encoding: RecordedCall["encoding"] = req.method === "GET" ? "query" : type.includes("json") ? "json" : "form";
    let body: Json = {};
    let badJson: "invalid_json" | "json_not_object" | undefined;
    if (encoding === "json" && raw.trim() !== "") {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Json;
        else badJson = "json_not_object";
      } catch {
        badJson = "invalid_json";
      }
    } else body = Object.fromEntries(new URLSearchParams(encoding === "query" ? url.search : raw));
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    // JSON bodies must carry the token in the Authorization header (Slack ignores a token field there).
    const token = bearer ?? (encoding !== "json" && typeof body.token === "string" ? body.token : undefined);
    const tokenKind: RecordedCall["tokenKind"] = token === undefined ? "none" : token === this.botToken ? (this.#revoked ? "revoked" : "bot") : token === this.appToken ? "app" : "unknown";
    const kind = this.#spec.kind(method);
    const checked = kind === "served" ? this.#spec.check(method, body) : { params: body, problems: [] };
    delete checked.params.token;
    const call: RecordedCall = { method, params: checked.params, encoding, tokenKind, at, status: 200 };
    const reply = (status: number, payload: Json | undefined, headers: Record<string, string> = {}) => {
      call.status = status;
      if (payload && payload.ok !== true) call.error = String(payload.error);
      this.calls.push(call);
      if (payload) send(res, status, payload, headers);
      else req.socket.destroy();
      this.#events.emit("change");
    };
    if (kind === "unknown") {
      this.violations.push(`${method}: no such Web API method`);
      return reply(200, { ok: false, error: "unknown_method" });
    }
    if (badJson) {
      this.violations.push(`${method}: the JSON body is ${badJson === "invalid_json" ? "not valid JSON" : "not an object"}`);
      return reply(200, { ok: false, error: badJson });
    }
    const authError = this.#authError(method, tokenKind);
    if (authError) return reply(200, { ok: false, error: authError });
    this.violations.push(...checked.problems);
    const fatal = checked.problems.filter((p) => !p.includes("unknown parameter"));
    if (fatal.length > 0) return reply(200, { ok: false, error: "invalid_arguments", response_metadata: { messages: fatal.map((p) => `[ERROR] ${p}`) } });
    const failure: FailureAnswer | undefined = this.#failures.fromRule(method, checked.params) ?? this.#failures.fromLimiter(method, checked.params);
    if (failure) {
      call.injected = failure.kind;
      return reply(failure.status, failure.body, failure.headers);
    }
    const payload = method === "auth.test" ? this.#authTest() : method === "apps.connections.open" ? this.#connectionsOpen() : answer(this.#ctx, method, checked.params);
    if (payload.ok === true) for (const key of this.#spec.missingAnswerKeys(method, payload)) this.violations.push(`fake: the ${method} answer lacks "${key}" (a bug of the fake)`);
    reply(200, payload);
  }

  #authError(method: string, tokenKind: RecordedCall["tokenKind"]): string | undefined {
    if (tokenKind === "none") return "not_authed";
    if (tokenKind === "unknown") return "invalid_auth";
    if (tokenKind === "revoked") return "account_inactive";
    if ((method === "apps.connections.open") !== (tokenKind === "app")) return "not_allowed_token_type";
    return undefined;
  }

  #authTest(): Json {
    return { ok: true, url: `https://${this.team.domain}.slack.com/`, team: this.team.name, user: this.bot.name, team_id: this.team.id, user_id: this.bot.userId, bot_id: this.bot.botId, is_enterprise_install: false };
  }

  #connectionsOpen(): Json {
    return { ok: true, url: `ws://127.0.0.1:${new URL(this.origin).port}/socket?ticket=${this.#socket.issueTicket()}&app_id=${this.bot.appId}` };
  }

  #responseUrl(key: string, res: ServerResponse, raw: string): void {
    // Bolt's respond() posts JSON; a form with `payload=` is taken too.
    let body: Json = {};
    try {
      body = JSON.parse(raw.startsWith("payload=") ? (new URLSearchParams(raw).get("payload") ?? "") : raw) as Json;
    } catch {
      this.violations.push(`response_url ${key}: the body is not JSON`);
    }
    const result = applyResponse(this.#ctx, this.#store.responseTargets.get(key), body);
    this.responses.push({ via: key, body, status: result.status, at: Date.now() });
    send(res, result.status, result.body);
    this.#events.emit("change");
  }

  #onAck(ack: Ack, envelope: SentEnvelope): void {
    const payload = ack.payload;
    if (envelope.type === "slash_commands" && (payload.text !== undefined || payload.blocks !== undefined)) {
      const result = applyResponse(this.#ctx, this.#store.responseTargets.get(this.#people.ackTargets.get(envelope.envelope_id) ?? ""), payload, false);
      this.responses.push({ via: "ack", body: payload, status: result.status, at: Date.now() });
    }
    const view = (envelope.payload as Json)?.type === "view_submission" ? this.#store.views.get(String(((envelope.payload as Json).view as Json)?.id)) : undefined;
    if (view) applyViewResponse(this.#ctx, view, payload);
  }
}

/** Starts a fake Slack on 127.0.0.1 with a free port. */
export function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  return new FakeSlack(options).listen();
}

export type { Ack, FakeEphemeral, FakeMessage, FakeResponse, FakeView, RecordedCall, SentEnvelope } from "./protocol.ts";
export type { FailureKind, FailureRule, RateLimit } from "./failures.ts";
export type { Delivered, Interaction } from "./people.ts";
