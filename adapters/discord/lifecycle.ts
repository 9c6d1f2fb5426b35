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
  client: Client;
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
 */
export class DiscordLifecycle {
  readonly #o: LifecycleOptions;
  #started = false;
  #listening = false;

  constructor(options: LifecycleOptions) {
    this.#o = options;
  }

  /** Started, and the gateway connection is ready. */
  get connected(): boolean {
    return this.#started && this.#o.client.isReady();
  }

  async start(handler: InboundHandler, context: AdapterStartContext | undefined): Promise<void> {
    if (this.#started) throw new ChatflowError("validation", "The Discord adapter is already started: call start() once.");
    this.#started = true;
    const { client, receiver, log } = this.#o;
    try {
      if (!this.#listening) receiver.listen(client);
      this.#listening = true;
      if (!this.#o.plugin) await this.#login();
      else if (!client.isReady()) await this.#ready();
      const { commands, skipped } = slashCommands(context?.commands ?? DEFAULT_COMMANDS);
      if (skipped.length > 0) log.warn({ skipped }, "commands left out of Discord (names must be 1-32 lower-case letters, digits, - or _)");
      await this.#register(commands);
      receiver.open(handler, commands.map((c) => c.name), context?.host);
      log.info({ bot: client.user?.tag, guild: this.#o.config.guildId ?? "global", mode: this.#o.plugin ? "plugin" : "own client" }, "discord adapter started");
    } catch (error) {
      this.#started = false;
      await receiver.close();
      if (!this.#o.plugin) await client.destroy().catch(() => undefined);
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    await this.#o.receiver.close();
    if (!this.#o.plugin) await this.#o.client.destroy();
    this.#started = false;
  }

  async #login(): Promise<void> {
    const { client, token, apiUrl } = this.#o;
    const ready = this.#ready();
    try {
      await client.login(token);
    } catch (error) {
      const mapped = toChatflowError(error, { action: "log in", token });
      if (mapped instanceof NetworkError) {
        const where = apiUrl === DEFAULT_API_URL ? apiUrl : `${new URL(apiUrl).origin} (from ${API_URL_ENV})`;
        throw new NetworkError(`Could not reach Discord at ${where}: ${mapped.message}`);
      }
      throw mapped;
    }
    await ready;
  }

  #ready(): Promise<void> {
    const { client } = this.#o;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new NetworkError(`Discord's gateway sent no READY within ${READY_WITHIN_MS / 1000} s.`)), READY_WITHIN_MS);
      client.once(Events.ClientReady, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Bulk overwrite; in plugin mode the host's own commands are fetched and kept. */
  async #register(commands: SlashCommand[]): Promise<void> {
    const { client, config, token } = this.#o;
    const appId = client.application?.id ?? client.user?.id;
    if (!appId) throw new ChatflowError("validation", "Discord did not say which application the bot belongs to.");
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
