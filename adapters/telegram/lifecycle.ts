import type { AdapterStartContext, InboundHandler } from "../../src/port/index.ts";
import { ChatflowError } from "../../src/errors.ts";
import { chatflowCommands, menuCommands, type BotCommandOption } from "./commands.ts";
import { identify, registerCommands, startPolling, startWebhook, type ConnectionParts } from "./connection.ts";
import { toChatflowError } from "./errors.ts";
import type { BotIdentity } from "./inbound.ts";
import type { PluginOwnership } from "./ownership.ts";
import type { TelegramReceiver } from "./receiver.ts";

export interface LifecycleOptions {
  parts: ConnectionParts;
  receiver: TelegramReceiver;
  /** Plugin mode: the host bot's transport is not ours to start or stop. */
  plugin: PluginOwnership | undefined;
  /** Webhook mode: the secret Telegram must send. */
  secret: string | undefined;
  /** Commands besides the engine's. */
  extraCommands: readonly BotCommandOption[] | undefined;
  /** Whether to set the command menu at start. */
  setCommands: boolean;
}

/**
 * Starting and stopping the adapter: who the bot is (getMe), its command menu, and the
 * transport (long polling or the webhook server); in plugin mode only the first two.
 */
export class TelegramLifecycle {
  readonly #o: LifecycleOptions;
  #started = false;
  /** Whether this process polls (false while another process leads the polling). */
  #receiving = true;
  #me: BotIdentity | undefined;
  #transport: { stop(): Promise<void>; port?: number } | undefined;

  constructor(options: LifecycleOptions) {
    this.#o = options;
  }

  get me(): BotIdentity | undefined {
    return this.#me;
  }

  get port(): number | undefined {
    return this.#transport?.port;
  }

  /** Started, and (when chatflow polls, in the process that receives) the polling loop runs. */
  get connected(): boolean {
    if (!this.#started) return false;
    return this.#o.plugin !== undefined || this.#o.parts.config.mode !== "polling" || !this.#receiving || this.#o.parts.bot.isRunning();
  }

  /**
   * Long polling in a process that shares its store with others: only the process leading the
   * bot's polling polls (a second poller would get 409); the others send only.
   */
  async receive(on: boolean): Promise<void> {
    if (!this.#started || this.#o.plugin || this.#o.parts.config.mode !== "polling") return;
    this.#receiving = on;
    if (on && !this.#transport) {
      this.#transport = await startPolling(this.#o.parts);
      this.#o.parts.log.info("telegram polling started: this process leads it");
    } else if (!on && this.#transport) {
      const transport = this.#transport;
      this.#transport = undefined;
      await transport.stop();
      this.#o.parts.log.info("telegram polling stopped: another process leads it");
    }
  }

  async start(handler: InboundHandler, context: AdapterStartContext | undefined): Promise<void> {
    const { parts, receiver, plugin } = this.#o;
    if (this.#started) throw new ChatflowError("validation", "The Telegram adapter is already started: call start() once.");
    this.#started = true;
    const commands = chatflowCommands(context?.commands, this.#o.extraCommands);
    try {
      const me = plugin ? await this.#identifyShared() : await identify(parts);
      this.#me = me;
      plugin?.setCommands(commands.map((c) => c.command));
      if (this.#o.setCommands) await this.#registerMenu(commands);
      receiver.open(handler, me);
      // Polling waits for the lead when the engine shares its store (see receive()).
      this.#receiving = !(context?.receive === false && parts.config.mode === "polling");
      if (!plugin && this.#receiving) await this.#connect();
      parts.log.info({ bot: me.username, mode: plugin ? "plugin" : parts.config.mode }, "telegram adapter started");
    } catch (error) {
      this.#started = false;
      await receiver.close();
      throw error instanceof ChatflowError ? error : toChatflowError(error, { method: "getMe", token: parts.token });
    }
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#o.receiver.beginStop();
    await this.#transport?.stop();
    this.#transport = undefined;
    await this.#o.receiver.close();
    this.#started = false;
  }

  async #registerMenu(commands: readonly BotCommandOption[]): Promise<void> {
    const menu = menuCommands(commands);
    if (menu.skipped.length > 0) this.#o.parts.log.warn({ skipped: menu.skipped }, "commands left out of Telegram's menu (names must be 1-32 of a-z, 0-9, _); they still work when typed");
    await registerCommands(this.#o.parts, menu.commands);
  }

  /** Plugin mode: the host bot knows who it is, or learns it now (getMe through its own Api). */
  async #identifyShared(): Promise<BotIdentity> {
    const { bot, token } = this.#o.parts;
    try {
      await bot.init();
    } catch (error) {
      throw toChatflowError(error, { method: "getMe", token });
    }
    return { id: bot.botInfo.id, username: bot.botInfo.username };
  }

  async #connect(): Promise<void> {
    const { parts, secret } = this.#o;
    if (parts.config.mode === "polling") {
      this.#transport = await startPolling(parts);
      return;
    }
    const server = await startWebhook(parts, secret!);
    this.#transport = { stop: () => server.close(), port: server.port };
  }
}
