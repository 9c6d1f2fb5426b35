import { Events, Routes, type Client } from "discord.js";
import type { AdapterStartContext, InboundHandler } from "../../src/port/index.ts";
import { ChatflowError, NetworkError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { DEFAULT_COMMANDS, slashCommands, type SlashCommand } from "./commands.ts";
import { API_URL_ENV, DEFAULT_API_URL, type DiscordConfig } from "./config.ts";
import { toChatflowError } from "./errors.ts";
import type { DiscordReceiver } from "./receiver.ts";

/** The fields of an application command that bulk overwrite takes. */
const WRITABLE = new Set(["name", "name_localizations", "description", "description_localizations", "options", "type", "default_member_permissions", "contexts", "integration_types"]);

/** Longest wait for the gateway's READY at start, in ms. */
const READY_WITHIN_MS = 30_000;

export interface LifecycleOptions {
  /** The client chatflow sends through (REST); it also holds the gateway where this process always receives. */
  client: Client;
  /**
   * A new client for each lead of the gateway (standalone only): where the engine leaves
   * receiving to one process of several, `client` sends only and a process that leads logs one
   * of these in (a destroyed discord.js client can't log in again).
   */
  gatewayClient?: () => Client;
  receiver: DiscordReceiver;
  config: DiscordConfig;
  token: string;
  apiUrl: string;
  log: Logger;
  /** Plugin mode: the host logs its client in and destroys it; chatflow only adds to it. */
  plugin: boolean;
}

/**
 * Starting and stopping: log in (standalone) and wait for READY, register the slash commands
 * by bulk overwrite (globally, or in `guildId`; in plugin mode merged with the host's own,
 * never wiping them), then take interactions. Stopping destroys only chatflow's own client.
 *
 * Discord sends every event to each gateway session of a shard, so where several processes
 * share the store only the one leading the gateway connects (`receive`); the others learn who
 * the bot is over REST and send only.
 */
export class DiscordLifecycle {
  readonly #o: LifecycleOptions;
  #started = false;
  #listening = false;
  /** Whether this process receives only while it leads the gateway. */
  #gated = false;
  /** The client connected to the gateway now, if any. */
  #gateway: Client | undefined;
  #identity: { botId: string; appId: string; tag: string } | undefined;

  constructor(options: LifecycleOptions) {
    this.#o = options;
  }

  /** Started, and the gateway connection is ready (or, while another process leads it, started). */
  get connected(): boolean {
    if (!this.#started) return false;
    if (this.#gated && !this.#gateway) return true;
    return (this.#gateway ?? this.#o.client).isReady();
  }

  /** The bot's user id, once started: recall trusts only the bot's own posts. */
  get botId(): string | undefined {
    return this.#identity?.botId ?? this.#o.client.user?.id;
  }

  async start(handler: InboundHandler, context: AdapterStartContext | undefined): Promise<void> {
    if (this.#started) throw new ChatflowError("validation", "The Discord adapter is already started: call start() once.");
    this.#started = true;
    const { client, receiver, log } = this.#o;
    this.#gated = !this.#o.plugin && context?.receive === false && this.#o.gatewayClient !== undefined;
    try {
      if (this.#gated) {
        client.rest.setToken(this.#o.token);
        this.#identity = await this.#identifyByRest();
      } else {
        if (!this.#listening) receiver.listen(client);
        this.#listening = true;
        if (!this.#o.plugin) await this.#login(client);
        else if (!client.isReady()) await this.#ready(client);
        this.#gateway = client;
        const appId = client.application?.id ?? client.user?.id;
        if (!appId) throw new ChatflowError("validation", "Discord did not say which application the bot belongs to.");
        this.#identity = { botId: client.user?.id ?? appId, appId, tag: client.user?.tag ?? "" };
      }
      const { commands, skipped } = slashCommands(context?.commands ?? DEFAULT_COMMANDS);
      if (skipped.length > 0) log.warn({ skipped }, "commands left out of Discord (names must be 1-32 lower-case letters, digits, - or _)");
      await this.#register(commands, this.#identity.appId);
      receiver.open(handler, commands.map((c) => c.name), context?.host);
      const mode = this.#o.plugin ? "plugin" : this.#gated ? "own client, gateway when leading" : "own client";
      log.info({ bot: this.#identity.tag, guild: this.#o.config.guildId ?? "global", mode }, "discord adapter started");
    } catch (error) {
      this.#started = false;
      this.#gateway = undefined;
      await receiver.close();
      if (!this.#o.plugin) await client.destroy().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Connects to the gateway (`on`) or leaves it, where several processes share the store: only
   * the process leading the gateway connects (a second session on the shard would receive every
   * event too); the others send only. Each lead logs in a new client.
   */
  async receive(on: boolean): Promise<void> {
    if (!this.#started || !this.#gated) return;
    const { log } = this.#o;
    if (on && !this.#gateway) {
      const client = this.#o.gatewayClient!();
      this.#o.receiver.listen(client);
      try {
        await this.#login(client);
      } catch (error) {
        await client.destroy().catch(() => undefined);
        throw error;
      }
      this.#gateway = client;
      log.info("discord gateway connected: this process leads it");
    } else if (!on && this.#gateway) {
      const client = this.#gateway;
      this.#gateway = undefined;
      await client.destroy();
      log.info("discord gateway left: another process leads it");
    }
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    await this.#o.receiver.close();
    if (this.#gated && this.#gateway) await this.#gateway.destroy();
    this.#gateway = undefined;
    if (!this.#o.plugin) await this.#o.client.destroy();
    this.#started = false;
  }

  async #login(client: Client): Promise<void> {
    const { token } = this.#o;
    const ready = this.#ready(client);
    try {
      await client.login(token);
    } catch (error) {
      ready.catch(() => undefined);
      throw this.#unreachable(toChatflowError(error, { action: "log in", token }));
    }
    await ready;
  }

  /** Who the bot is, without the gateway: its application (id, bot user) over REST. */
  async #identifyByRest(): Promise<{ botId: string; appId: string; tag: string }> {
    const { client, token } = this.#o;
    let app: { id?: unknown; bot?: { id?: unknown; username?: unknown } };
    try {
      app = (await client.rest.get(Routes.currentApplication())) as typeof app;
    } catch (error) {
      throw this.#unreachable(toChatflowError(error, { action: "say who the bot is", token }));
    }
    if (typeof app.id !== "string") throw new ChatflowError("validation", "Discord did not say which application the bot belongs to.");
    const botId = typeof app.bot?.id === "string" ? app.bot.id : app.id;
    return { botId, appId: app.id, tag: typeof app.bot?.username === "string" ? app.bot.username : "" };
  }

  /** A network failure names where chatflow looked for Discord. */
  #unreachable(mapped: ChatflowError): ChatflowError {
    if (!(mapped instanceof NetworkError)) return mapped;
    const { apiUrl } = this.#o;
    const where = apiUrl === DEFAULT_API_URL ? apiUrl : `${new URL(apiUrl).origin} (from ${API_URL_ENV})`;
    return new NetworkError(`Could not reach Discord at ${where}: ${mapped.message}`);
  }

  #ready(client: Client): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new NetworkError(`Discord's gateway sent no READY within ${READY_WITHIN_MS / 1000} s.`)), READY_WITHIN_MS);
      client.once(Events.ClientReady, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Bulk overwrite; in plugin mode the host's own commands are fetched and kept. */
  async #register(commands: SlashCommand[], appId: string): Promise<void> {
    const { client, config, token } = this.#o;
    const route = config.guildId ? Routes.applicationGuildCommands(appId, config.guildId) : Routes.applicationCommands(appId);
    try {
      let body: unknown[] = commands;
      if (this.#o.plugin) {
        const existing = (await client.rest.get(route)) as Array<Record<string, unknown> & { name: string }>;
        const ours = new Set(commands.map((c) => c.name));
        // Theirs as they are, without the fields Discord fills in (ids, versions).
        const keep = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([key]) => WRITABLE.has(key)));
        body = [...existing.filter((c) => !ours.has(c.name)).map(keep), ...commands];
      }
      await client.rest.put(route, { body });
    } catch (error) {
      throw toChatflowError(error, { action: "register the slash commands", token });
    }
  }
}
