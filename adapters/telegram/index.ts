import type { Bot } from "grammy";
import type { Adapter } from "../../src/port/index.ts";
import type { AdapterFactoryContext } from "../../src/port/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { CallbackData } from "./callback-data.ts";
import { createGrammyClient } from "./client.ts";
import type { BotCommandOption } from "./commands.ts";
import { checkToken, DEFAULT_API_ROOT, parseApiRoot, parseTelegramConfig, readTelegramEnv, TOKEN_ENV, WEBHOOK_SECRET_ENV, type TelegramConfig } from "./config.ts";
import type { ConnectionParts } from "./connection.ts";
import type { BotIdentity } from "./inbound.ts";
import { TelegramLifecycle } from "./lifecycle.ts";
import { TelegramOutbound } from "./outbound.ts";
import { PluginOwnership, type OwnsChat } from "./ownership.ts";
import { TelegramReceiver } from "./receiver.ts";
import { MAX_TEXT_LENGTH } from "./render.ts";

export { telegramConfigSchema, type TelegramConfig, type TelegramConfigInput } from "./config.ts";
export type { BotCommandOption } from "./commands.ts";
export type { OwnsChat, TelegramChatRef } from "./ownership.ts";

export interface TelegramAdapterOptions {
  /** The bot token from @BotFather (chatflow reads it from TELEGRAM_BOT_TOKEN). Not with `bot`. */
  token?: string;
  /**
   * Plugin mode: an existing grammY `Bot` to share. chatflow adds its middleware to it
   * (`bot.use`) and takes only its commands, presses of its buttons, replies to its messages
   * and the chats `owns` names; everything else goes on to your handlers. chatflow never
   * starts or stops your bot: call `bot.start()` (or serve its webhook) yourself.
   */
  bot?: Bot;
  /** Plugin mode: the chats (or forum topics) whose plain messages are chatflow's. Default: none. */
  owns?: OwnsChat;
  /** Plugin mode: whether chatflow sets the bot's command menu (setMyCommands) at start. Default false. */
  setCommands?: boolean;
  /** Bot API server, without trailing slash: a self-hosted one, or a fake in tests. Default `https://api.telegram.org` (plugin mode: your bot's). */
  apiRoot?: string;
  /** `polling` (default) or `webhook`. Not in plugin mode. */
  mode?: TelegramConfig["mode"];
  /** Minimum interval between two edits of one message, in ms. Default 1000. */
  editIntervalMs?: number;
  /** Webhook mode: where to listen, the public URL, and the secret Telegram must send (TELEGRAM_WEBHOOK_SECRET). */
  webhook?: Partial<TelegramConfig["webhook"]> & { secret?: string };
  /** Outgoing pacing; defaults: 30 calls/s, 1 s between calls to one chat, 20 calls/min to a group. */
  throttle?: Partial<TelegramConfig["throttle"]>;
  /** Retries of 429 / 5xx answers; defaults: 10 retries, 429 waits up to 60 s. */
  retry?: Partial<TelegramConfig["retry"]>;
  /** Deadline of one outgoing call, retries included, in s. Default 120. */
  callTimeoutSeconds?: number;
  /** Commands besides the engine's (which `start` receives), for the menu and, in plugin mode, to take. */
  commands?: BotCommandOption[];
  /** How many long action ids (over 64 bytes) are remembered for their buttons. Default 10,000. */
  callbackKeys?: number;
  /** Logger; default: warnings and errors to stderr. */
  logger?: Logger;
}

/** The Telegram adapter: the Adapter port, plus what it learned at start. */
export interface TelegramAdapter extends Adapter {
  readonly platform: "telegram";
  /** The bot's id and @username, known once started. */
  readonly me: BotIdentity | undefined;
  /** Webhook mode: the port the server listens on, once started. */
  readonly webhookPort: number | undefined;
}

/** The options, checked: the token, the API root and the adapter's settings. */
interface Resolved {
  token: string;
  apiRoot: string;
  config: TelegramConfig;
  secret: string | undefined;
}

function resolveOptions(options: TelegramAdapterOptions): Resolved {
  const shared = options.bot;
  const rawToken = shared ? shared.token : options.token;
  if (typeof rawToken !== "string" || rawToken.trim() === "") {
    throw new ConfigError(`The Telegram bot token is empty: set ${TOKEN_ENV} (create a bot with @BotFather).`);
  }
  const token = rawToken.trim();
  checkToken(token);
  const apiRoot = parseApiRoot(options.apiRoot ?? shared?.api.options?.apiRoot ?? DEFAULT_API_ROOT, "apiRoot");
  const { secret, ...webhookOptions } = options.webhook ?? {};
  const config = parseTelegramConfig(
    {
      enabled: true,
      ...defined({ mode: options.mode, editIntervalMs: options.editIntervalMs, throttle: options.throttle, retry: options.retry, callTimeoutSeconds: options.callTimeoutSeconds }),
      webhook: defined(webhookOptions),
    },
    "createTelegramAdapter options",
  );
  if (shared && options.mode) throw new ConfigError("createTelegramAdapter: `mode` does not apply with `bot`: your bot polls or serves its webhook itself.");
  if (!shared && config.mode === "webhook" && !secret) throw new ConfigError(`Webhook mode needs a secret: set ${WEBHOOK_SECRET_ENV}.`);
  return { token, apiRoot, config, secret };
}

/**
 * Creates the Telegram adapter (platform `telegram`) on grammY. Private chats, and in groups
 * commands, mentions and replies to the bot; progress edited in place; questions and reviews
 * as inline keyboards; HTML text split at 4,096 characters; refusals as callback answers only
 * the presser sees; retries by grammY's auto-retry, pacing by sliding windows (throttle.ts). With
 * `bot`, chatflow joins an existing grammY bot as a plugin. See README.md in this folder.
 */
export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  const { token, apiRoot, config, secret } = resolveOptions(options);
  const log = (options.logger ?? createLogger({ level: "warn", file: "-" })).child({ adapter: "telegram" });
  const client = createGrammyClient({ token, apiRoot, throttle: config.throttle, retry: config.retry });
  const bot = options.bot ?? client.bot;
  const plugin = options.bot ? new PluginOwnership(options.owns ?? (() => false)) : undefined;
  const keys = new CallbackData(options.callbackKeys);
  const outbound = new TelegramOutbound({ api: client.api, token, keys, callTimeoutSeconds: config.callTimeoutSeconds });
  const receiver = new TelegramReceiver({
    outbound,
    keys,
    log,
    refuseWhileStopping: !plugin && config.mode === "webhook",
    ...(plugin ? { claims: (inbound, update) => plugin.claims(inbound, update) } : {}),
  });
  bot.use(receiver.middleware());
  if (!plugin) bot.catch((error) => log.error({ err: error.error }, "telegram update failed"));
  const parts: ConnectionParts = { bot, api: client.api, token, apiRoot, config, log };
  const lifecycle = new TelegramLifecycle({ parts, receiver, plugin, secret, extraCommands: options.commands, setCommands: !plugin || options.setCommands === true });
  return {
    platform: "telegram",
    capabilities: { editIntervalMs: config.editIntervalMs, maxTextLength: MAX_TEXT_LENGTH, persistentMessages: true },
    get me() {
      return lifecycle.me;
    },
    get webhookPort() {
      return lifecycle.port;
    },
    start: (handler, context) => lifecycle.start(handler, context),
    stop: () => lifecycle.stop(),
    // Long polling allows one poller per bot: with a shared store, one process leads it (named by the bot's id, never the token's secret part).
    ...(config.mode === "polling" && !plugin ? { singleReceiver: { name: `telegram:polling:${token.split(":", 1)[0]}`, receive: (on: boolean) => lifecycle.receive(on) } } : {}),
    connected: () => lifecycle.connected,
    async send(address, message) {
      const sent = await outbound.send(address, message);
      plugin?.sent(address.channel, sent.id);
      return sent;
    },
    edit: (address, messageId, message) => outbound.edit(address, messageId, message),
    typing: (address) => outbound.typing(address),
    notify: (event, text, notice) => receiver.notify(event, text, notice),
  };
}

/**
 * The adapter the `adapters.telegram` section describes, with secrets from `env`
 * (TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT, TELEGRAM_WEBHOOK_SECRET): the adapter table's
 * factory. Throws a ConfigError naming the field (`adapters.telegram.<field>`) or the variable.
 */
export function fromConfig(section: unknown, env: NodeJS.ProcessEnv, context: AdapterFactoryContext): TelegramAdapter {
  const config = parseTelegramConfig(section);
  const secrets = readTelegramEnv(env, config.mode);
  return createTelegramAdapter({
    token: secrets.token,
    apiRoot: secrets.apiRoot,
    mode: config.mode,
    editIntervalMs: config.editIntervalMs,
    webhook: { ...config.webhook, ...(secrets.webhookSecret ? { secret: secrets.webhookSecret } : {}) },
    throttle: config.throttle,
    retry: config.retry,
    callTimeoutSeconds: config.callTimeoutSeconds,
    logger: context.logger,
  });
}

function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
