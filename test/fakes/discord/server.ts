import { EventEmitter } from "node:events";
import { waitForCondition } from "../wait.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { guildCreatePayload, INTENTS, readyPayload } from "./dispatches.ts";
import { Failures, type FailureRule, type RateLimit } from "./failures.ts";
import { Gateway, type GatewayConnection } from "./gateway.ts";
import type { FakeInteraction } from "./interactions.ts";
import { People, type Dispatched, type PressOptions, type SlashCommandOptions, type SubmitModalOptions } from "./people.ts";
import { describeCall, snowflake, type FakeCallback, type FakeChannel, type FakeGuild, type FakeMessage, type FakeModal, type FakeUser, type Json, type RecordedCall } from "./protocol.ts";
import { routeName, type RestContext, type RestOptions } from "./rest.ts";
import { ROUTES } from "./routes.ts";
import { serveRest } from "./serve-rest.ts";
import { DiscordSpec } from "./spec.ts";
import { Store, type Identity } from "./store.ts";

/**
 * A fake Discord for tests: node:http and a `ws` gateway on 127.0.0.1, port 0. Serves REST v10
 * at `/api/v10/...` (what discord.js's `rest.api` option points at), validating every body
 * against Discord's OpenAPI spec and documented limits (problems land in `violations`, and are
 * answered 400 50035 as Discord would), with bucket headers, failure rules and rate limits; the
 * gateway at `/` (HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay);
 * a guild with #general, two people (alice, bob), DMs; and people's slash commands, button
 * presses, modal submissions and messages, shaped as Discord sends them.
 */

export interface FakeDiscordOptions {
  /** Default: a token of the usual shape for the fake bot. */
  token?: string;
  /** How long after a person acts the first callback is taken (default 3000 ms, Discord's). */
  interactionDeadlineMs?: number;
  /** How long interaction tokens work for webhook routes (default 15 min, Discord's). */
  tokenLifetimeMs?: number;
  /** How long `enforce_nonce` returns the first message for a repeated nonce (default 5 min). */
  nonceWindowMs?: number;
  /** Enforced rate limits by route, e.g. `{ "PATCH /webhooks/:app/:token/messages/@original": { limit: 5, perMs: 5000 } }`. */
  rateLimits?: Record<string, RateLimit>;
  /** Privileged intents enabled for the app (default all: GuildMembers, GuildPresences, MessageContent); others close the gateway with 4014. */
  privilegedIntents?: number;
  /** Send the bot's own channel messages back as MESSAGE_CREATE when its intents ask for them (default true, as Discord does). */
  echoOwnMessages?: boolean;
  /** The window routes without an enforced limit advertise in their bucket headers (default 1,000 per second: never paces a client). */
  defaultBucket?: RateLimit;
}

export class FakeDiscord {
  /** The bot token: what `client.login()` takes (REST sends it as `Authorization: Bot <token>`). */
  readonly token: string;
  /** The application: `id` (also the bot user's id, as on Discord) and `flags`. */
  readonly application: Identity["application"];
  /** The bot's user (`bot: true`). */
  readonly bot: FakeUser;
  /** The guild the bot is in. */
  readonly guild: FakeGuild;
  /** #general in {@link guild}: where people act by default. */
  readonly channel: FakeChannel;
  /** Two people in the guild. */
  readonly alice: FakeUser;
  readonly bob: FakeUser;
  /** Every REST call, in arrival order. */
  readonly calls: RecordedCall[] = [];
  /** What Discord would refuse or the docs forbid (adapter tests assert this stays empty). */
  readonly violations: string[] = [];
  /** Channel ids the bot can't see (→ 403 50001 Missing Access). */
  readonly missingAccess = new Set<string>();
  /** Channel ids where the bot can't write (→ 403 50013 Missing Permissions). */
  readonly missingPermissions = new Set<string>();
  /** User ids who don't take DMs from the bot (→ 403 50007 Cannot send messages to this user). */
  readonly dmsClosed = new Set<string>();
  /** Interaction and token windows; change them for a test (e.g. `tokenLifetimeMs = 500`). */
  readonly options: RestOptions;

  readonly #identity: Identity;
  readonly #store = new Store();
  readonly #spec = new DiscordSpec();
  readonly #failures = new Failures();
  readonly #events = new EventEmitter();
  readonly #server: Server;
  readonly #gateway: Gateway;
  readonly #people: People;
  readonly #ctx: RestContext;
  readonly #echo: boolean;

  constructor(o: FakeDiscordOptions = {}) {
    const appId = "1300000000000000001";
    this.token = o.token ?? `${Buffer.from(appId).toString("base64url")}.GfAkE0.fake-discord-bot-token-for-tests-0000`;
    this.application = { id: appId, flags: 0, name: "chatflow" };
    this.bot = { id: appId, username: "chatflow", global_name: null, discriminator: "0", avatar: null, bot: true, public_flags: 0, flags: 0 };
    this.#identity = { token: this.token, application: this.application, bot: this.bot, origin: "" };
    this.#store.users.set(this.bot.id, this.bot);
    this.alice = this.#store.user("1300000000000000201", "alice");
    this.bob = this.#store.user("1300000000000000202", "bob");
    this.guild = this.#store.addGuild({ id: "1300000000000000100", name: "chatflow test", ownerId: this.alice.id });
    this.channel = this.#store.addChannel({ id: "1300000000000000101", type: 0, name: "general", guildId: this.guild.id });
    this.options = { interactionDeadlineMs: o.interactionDeadlineMs ?? 3000, tokenLifetimeMs: o.tokenLifetimeMs ?? 15 * 60_000, nonceWindowMs: o.nonceWindowMs ?? 5 * 60_000 };
    this.#echo = o.echoOwnMessages ?? true;
    if (o.defaultBucket) this.#failures.defaultBucket = o.defaultBucket;
    for (const [route, limit] of Object.entries(o.rateLimits ?? {})) this.#failures.limit(checkRoute(route), limit);
    const changed = () => void this.#events.emit("change");
    const privileged = o.privilegedIntents ?? (1 << 1) | (1 << 8) | INTENTS.MessageContent;
    this.#gateway = new Gateway({
      token: this.token, privilegedIntents: () => privileged, violation: (text) => void this.violations.push(text), changed,
      ready: (session, resumeUrl) => readyPayload(this.#store, this.#identity, session, resumeUrl),
      afterReady: (session) => {
        if ((session.intents & INTENTS.Guilds) === 0) return;
        for (const guild of this.#store.guilds.values()) this.#gateway.dispatch("GUILD_CREATE", guildCreatePayload(this.#store, this.#identity, guild));
      },
    });
    this.#ctx = {
      store: this.#store, identity: this.#identity, spec: this.#spec, options: this.options,
      access: { missingAccess: this.missingAccess, missingPermissions: this.missingPermissions, dmsClosed: this.dmsClosed },
      violation: (text) => void this.violations.push(text), echo: (message) => this.#echoMessage(message),
      identifies: () => this.#gateway.identifies, gatewayUrl: () => this.#gateway.url,
    };
    this.#people = new People({ store: this.#store, identity: this.#identity, gateway: this.#gateway, defaultChannel: () => this.channel });
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#server.on("upgrade", (req, socket, head) => this.#gateway.upgrade(req, socket, head));
    // Longer than any test: a keep-alive socket closed by the server would fail the client's next call.
    this.#server.keepAliveTimeout = 120_000;
    this.#events.setMaxListeners(100);
  }

  /** Listens on 127.0.0.1 with a free port (startFakeDiscord does this). */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#identity.origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    this.#gateway.origin = this.#identity.origin;
    return this;
  }

  /** `http://127.0.0.1:PORT/api`: what discord.js's `rest: { api }` takes (routes are `${api}/v10/...`). */
  get apiUrl(): string {
    return `${this.#identity.origin}/api`;
  }

  /** `ws://127.0.0.1:PORT`: the gateway, as GET /gateway/bot answers it. */
  get gatewayUrl(): string {
    return this.#gateway.url;
  }

  /** Closes the gateway (1001, then abruptly) and the server. Destroy the client first: it would try to resume. */
  async close(): Promise<void> {
    await this.#gateway.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ---- the world ------------------------------------------------------------------------

  /** Adds a person (a user id to act as). */
  addUser(username: string): FakeUser {
    return this.#store.user(snowflake(), username);
  }

  /** Adds a guild (with a #general of its own); a connected bot gets GUILD_CREATE, as when it joins one. */
  addGuild(name: string): { guild: FakeGuild; channel: FakeChannel } {
    const guild = this.#store.addGuild({ id: snowflake(), name, ownerId: this.alice.id });
    const channel = this.#store.addChannel({ id: snowflake(), type: 0, name: "general", guildId: guild.id });
    if (this.#gateway.session && (this.#gateway.session.intents & INTENTS.Guilds) !== 0) this.#gateway.dispatch("GUILD_CREATE", guildCreatePayload(this.#store, this.#identity, guild));
    return { guild, channel };
  }

  /** Adds a text channel to a guild (default: {@link guild}); a connected bot gets CHANNEL_CREATE. */
  addChannel(name: string, guildId = this.guild.id): FakeChannel {
    const channel = this.#store.addChannel({ id: snowflake(), type: 0, name, guildId });
    if (this.#gateway.session && (this.#gateway.session.intents & INTENTS.Guilds) !== 0) this.#gateway.dispatch("CHANNEL_CREATE", this.#store.apiChannel(channel));
    return channel;
  }

  /** A person's DM channel with the bot (the one POST /users/@me/channels opens). */
  dmChannel(userId: string): FakeChannel {
    return this.#store.dmChannel(userId);
  }

  // ---- failures and limits ----------------------------------------------------------------

  /** Fails calls as described: 429 with Retry-After, 5xx, dropped connections, any Discord error code. */
  fail(rule: FailureRule): void {
    this.#failures.add({ ...rule, route: rule.route === "*" ? "*" : checkRoute(rule.route) });
  }

  /** Enforces a route's limit (`"PATCH /webhooks/:app/:token/messages/:message", { limit: 5, perMs: 5000 }`); `undefined` lifts it. */
  rateLimit(route: string, limit: RateLimit | undefined): void {
    this.#failures.limit(checkRoute(route), limit);
  }

  /** Enforces Discord's global limit (requests per second; interaction callbacks exempt), or with `undefined` lifts it. */
  globalRateLimit(perSecond: number | undefined): void {
    this.#failures.globalPerSecond = perSecond;
  }

  // ---- the gateway --------------------------------------------------------------------------

  /** Dispatches any event on the gateway session (kept for a resume if the client is away); returns its sequence number. */
  dispatch(t: string, d: unknown): number {
    return this.#gateway.dispatch(t, d).s;
  }
  /** Writes anything on the gateway socket as is (strings raw): malformed frames. */
  sendRaw(data: unknown): void {
    this.#gateway.sendRaw(data);
  }
  /** Closes the gateway sockets abruptly (1006): discord.js resumes on `resume_gateway_url` after ~0.5 s. Returns how many. */
  dropGateway(): number {
    return this.#gateway.drop();
  }
  /** Sends op 7 RECONNECT: discord.js closes with 4200 and resumes. */
  requestReconnect(): number {
    return this.#gateway.requestReconnect();
  }
  /** Sends op 9 INVALID_SESSION: not `resumable` → discord.js identifies again. */
  invalidateSession(resumable = false): number {
    return this.#gateway.invalidateSession(resumable);
  }
  /** Closes the gateway with a close code (4000 → resume; 4004 → fatal; 4009 → resume...). */
  closeGateway(code: number, reason = ""): number {
    return this.#gateway.closeWith(code, reason);
  }
  /** HELLO's heartbeat interval for the next connections (default 41250 ms). */
  get heartbeatIntervalMs(): number {
    return this.#gateway.heartbeatIntervalMs;
  }
  set heartbeatIntervalMs(ms: number) {
    this.#gateway.heartbeatIntervalMs = ms;
  }
  /** Stop (false) or resume answering heartbeats: an unacked heartbeat makes discord.js drop the connection and resume. */
  get ackHeartbeats(): boolean {
    return this.#gateway.ackHeartbeats;
  }
  set ackHeartbeats(on: boolean) {
    this.#gateway.ackHeartbeats = on;
  }
  /** Gateway connections, in order: path (`/` or `/resume`), query, what the client did (identify, resume). */
  get connections(): readonly GatewayConnection[] {
    return this.#gateway.connections;
  }
  /** IDENTIFYs accepted. */
  get identifies(): number {
    return this.#gateway.identifies;
  }
  /** IDENTIFYs accepted while another identified socket was open: two sessions at once, each receiving every event. */
  get gatewayOverlaps(): ReadonlyArray<{ at: number; open: number }> {
    return this.#gateway.overlaps;
  }
  /** RESUMEs accepted. */
  get resumes(): number {
    return this.#gateway.resumes;
  }
  /** Heartbeats received. */
  get heartbeats(): number {
    return this.#gateway.heartbeats;
  }
  /** The intents of the current session's IDENTIFY. */
  get intents(): number | undefined {
    return this.#gateway.session?.intents;
  }
  /** Whether the session has an open socket receiving dispatches. */
  get gatewayLive(): boolean {
    return this.#gateway.live;
  }
  /** Resolves once a session is live with `identifies` and `resumes` at least as given (default: one identify). */
  waitForGateway(o: { identifies?: number; resumes?: number; timeoutMs?: number } = {}): Promise<true> {
    const what = `a live gateway session (${o.identifies ?? 1} identifies, ${o.resumes ?? 0} resumes)`;
    return this.waitUntil(() => this.#gateway.live && this.identifies >= (o.identifies ?? 1) && this.resumes >= (o.resumes ?? 0), o.timeoutMs ?? 10_000, what);
  }

  // ---- what people do (each returns the ids to assert on) ------------------------------------

  /** A person runs a slash command (INTERACTION_CREATE type 2): `/schedule add cron:…` is `{ name: "schedule", subcommand: "add", options: { cron } }`. */
  slashCommand(o: SlashCommandOptions): Dispatched {
    return this.#people.slashCommand(o);
  }
  /** A person presses a button (by custom_id or label) on a message or an interaction's reply (INTERACTION_CREATE type 3). */
  press(o: PressOptions): Dispatched & { messageId: string } {
    return this.#people.press(o);
  }
  /** A person picks values in a select menu on a message or an interaction's reply (INTERACTION_CREATE type 3 with `values`). */
  select(o: { user: string; messageId?: string; original?: string; customId: string; values: string[] }): Dispatched & { messageId: string } {
    return this.#people.select(o);
  }
  /** A person submits a modal the app opened (INTERACTION_CREATE type 5), values by component custom_id. */
  submitModal(o: SubmitModalOptions): Dispatched {
    return this.#people.submitModal(o);
  }
  /** A person's message in a channel or DM (MESSAGE_CREATE, if the bot's intents ask for it). */
  userMessage(o: { user: string; content: string; channel?: string; dm?: boolean }): ReturnType<People["userMessage"]> {
    return this.#people.userMessage(o);
  }
  /** A malformed interaction: neither `member` nor `user` (discord.js 14.28 throws inside its gateway handler). */
  interactionWithoutUser(o: { name: string; channel?: string }): Dispatched {
    return this.#people.interactionWithoutUser(o);
  }

  // ---- what tests look at ---------------------------------------------------------------

  /** Calls of one route (`PATCH /webhooks/:app/:token/messages/@original`), answered 2xx unless `all`. */
  callsOf(route: string, options: { all?: boolean } = {}): RecordedCall[] {
    checkRoute(route);
    return this.calls.filter((call) => call.route === route && (options.all || (call.status >= 200 && call.status < 300)));
  }
  /** Calls answered 429 (rules and limiters): a benchmark can assert there were none. */
  get rateLimitedCalls(): RecordedCall[] {
    return this.calls.filter((call) => call.status === 429);
  }
  /** Calls Discord counts towards its invalid-request ban (401, 403, 429; 10,000 per 10 min). */
  get invalidRequests(): number {
    return this.calls.filter((call) => call.status === 401 || call.status === 403 || call.status === 429).length;
  }
  /** A channel's messages as they look now, oldest first: not ephemerals nor deleted ones (unless `all`). */
  messages(channelId: string, options: { all?: boolean } = {}): FakeMessage[] {
    return this.#store.channelMessages(channelId, options);
  }
  /** One message as it looks now (ephemeral and deleted ones too). */
  message(id: string): FakeMessage | undefined {
    return this.#store.messages.get(id);
  }
  /** The reply (`@original`) of an interaction, as it looks now. */
  originalOf(interactionId: string): FakeMessage | undefined {
    const id = this.#store.interactions.get(interactionId)?.originalId;
    return id !== undefined ? this.#store.messages.get(id) : undefined;
  }
  /** Follow-ups of an interaction, in order. */
  followupsOf(interactionId: string): FakeMessage[] {
    return (this.#store.interactions.get(interactionId)?.followups ?? []).map((id) => this.#store.messages.get(id)!);
  }
  /** Ephemeral messages one person saw (not deleted), oldest first. */
  ephemerals(userId: string): FakeMessage[] {
    return [...this.#store.messages.values()].filter((m) => m.ephemeralTo === userId && !m.deleted);
  }
  /** An interaction as the fake keeps it (payload, accepted callback type, original, follow-ups, modal). */
  interaction(id: string): FakeInteraction | undefined {
    return this.#store.interactions.get(id);
  }
  /** Callbacks tried for an interaction, accepted or refused, with the time since the person acted. */
  callbacks(interactionId: string): FakeCallback[] {
    const interaction = this.#store.interactions.get(interactionId);
    return this.calls
      .filter((c) => c.route === "POST /interactions/:id/:token/callback" && c.params.id === interactionId)
      .map((c) => {
        const body = (c.body ?? {}) as Json;
        return { type: Number(body.type), at: c.at, sinceDispatchMs: c.at - (interaction?.createdAt ?? c.at), status: c.status, ...(c.code !== undefined ? { code: c.code } : {}), ...(body.data ? { data: body.data as Json } : {}) };
      });
  }
  /**
   * Interactions Discord would show as "This interaction failed": their deadline has passed
   * and no callback was accepted (none came, or only late or refused ones).
   */
  get failedInteractions(): FakeInteraction[] {
    const now = Date.now();
    return [...this.#store.interactions.values()].filter((i) => i.responseType === undefined && now - i.createdAt > this.options.interactionDeadlineMs);
  }
  /** Modals the app opened, in order. */
  get modals(): readonly FakeModal[] {
    return this.#store.modals;
  }
  /** Registered commands: `global`, and per guild id. */
  get commands(): { global: readonly Json[]; guilds: ReadonlyMap<string, readonly Json[]> } {
    return this.#store.commands;
  }

  /** Resolves once `condition` returns something other than undefined/false; a timeout error lists the recent calls. */
  waitUntil<T>(condition: () => T | undefined | false, timeoutMs = 5000, what = "the condition"): Promise<T> {
    return waitForCondition(this.#events, condition, timeoutMs, what, () => this.#summary());
  }

  #summary(): string {
    const g = this.#gateway;
    return `Gateway: ${g.openSockets} open, ${g.connections.length} ever, ${g.identifies} identifies, ${g.resumes} resumes. Violations: ${this.violations.length}. Calls: ${this.calls.slice(-25).map(describeCall).join("; ") || "none"}`;
  }

  #echoMessage(message: FakeMessage): void {
    const session = this.#gateway.session;
    if (!this.#echo || !session) return;
    if ((session.intents & (message.guildId ? INTENTS.GuildMessages : INTENTS.DirectMessages)) === 0) return;
    this.#gateway.dispatch("MESSAGE_CREATE", this.#store.apiMessage(message, { gateway: true }));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await serveRest(this.#ctx, this.#failures, req, res, (call) => {
      this.calls.push(call);
      this.#events.emit("change");
    });
  }
}

/** The route names the fake serves (`METHOD /template`): failure rules, limits and callsOf take only these, so a typo can't be a silent no-op. */
export const ROUTE_NAMES: readonly string[] = ROUTES.map(routeName);

function checkRoute(route: string): string {
  if (!ROUTE_NAMES.includes(route)) throw new Error(`The fake serves no route "${route}". Routes: ${ROUTE_NAMES.join(", ")}`);
  return route;
}

/** Starts a fake Discord on 127.0.0.1 with a free port. */
export function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  return new FakeDiscord(options).listen();
}

export type { Dispatched, PressOptions, SlashCommandOptions, SubmitModalOptions } from "./people.ts";
export type { FailureKind, FailureRule, RateLimit } from "./failures.ts";
export type { FakeInteraction } from "./interactions.ts";
export type { GatewayConnection } from "./gateway.ts";
export type { FakeCallback, FakeChannel, FakeGuild, FakeMessage, FakeModal, FakeUser, RecordedCall } from "./protocol.ts";
