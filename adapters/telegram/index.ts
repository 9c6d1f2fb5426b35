import type { Adapter, AdapterCapabilities, InboundHandler } from "../../src/adapter.ts";
import { AuthenticationError, ChatflowError, ConfigError, NetworkError } from "../../src/errors.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import type { InboundEvent } from "../../src/model.ts";
import { CallbackData } from "./callback-data.ts";
import { createGrammyClient, withDeadline } from "./client.ts";
import { menuCommands, type BotCommandOption } from "./commands.ts";
import { API_ROOT_ENV, checkToken, DEFAULT_API_ROOT, parseApiRoot, parseTelegramConfig, readTelegramEnv, TOKEN_ENV, WEBHOOK_SECRET_ENV, type TelegramConfig } from "./config.ts";
import { toChatflowError } from "./errors.ts";
import { toInbound, type BotIdentity } from "./inbound.ts";
import { TelegramOutbound } from "./outbound.ts";
import { MAX_TEXT_LENGTH } from "./render.ts";
import { startWebhookServer, UpdateRefused, type WebhookServer } from "./webhook.ts";

export { telegramConfigSchema, type TelegramConfig, type TelegramConfigInput } from "./config.ts";
export type { BotCommandOption } from "./commands.ts";

/** The update types chatflow reads; Telegram then sends no others. */
const ALLOWED_UPDATES = ["message", "callback_query"] as const;
/** Longest wait for the API at start (getMe, setWebhook), in s. */
const START_DEADLINE_SECONDS = 30;
/** Longest wait for grammy to confirm the update offset at stop, in ms. */
const STOP_GRACE_MS = 5000;

export interface TelegramAdapterOptions {
  /** The bot token from @BotFather (chatflow reads it from TELEGRAM_BOT_TOKEN). */
  token: string;
  /** Bot API server, without trailing slash: a self-hosted one, or a fake in tests. Default `https://api.telegram.org`. */
  apiRoot?: string;
  /** `polling` (default) or `webhook`. */
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
  /** Commands for Telegram's menu besides the built-ins (help, new, cancel, status, history, tasks), e.g. routed workflows. */
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

/**
 * Creates the Telegram adapter (platform `telegram`) on grammy. Private chats, and in groups
 * commands, mentions and replies to the bot; progress edited in place; questions and reviews
 * as inline keyboards; HTML text split at 4,096 characters; retries and pacing by grammY's
 * auto-retry and throttler plugins. See README.md in this folder.
 */
export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  if (typeof options.token !== "string" || options.token.trim() === "") {
    throw new ConfigError(`The Telegram bot token is empty: set ${TOKEN_ENV} (create a bot with @BotFather).`);
  }
  const token = options.token.trim();
  checkToken(token);
  const apiRoot = parseApiRoot(options.apiRoot ?? DEFAULT_API_ROOT, "apiRoot");
  const { secret, ...webhookOptions } = options.webhook ?? {};
  const config = parseTelegramConfig(
    {
      enabled: true,
      ...defined({ mode: options.mode, editIntervalMs: options.editIntervalMs, throttle: options.throttle, retry: options.retry, callTimeoutSeconds: options.callTimeoutSeconds }),
      webhook: defined(webhookOptions),
    },
    "createTelegramAdapter options",
  );
  if (config.mode === "webhook" && !secret) throw new ConfigError(`Webhook mode needs a secret: set ${WEBHOOK_SECRET_ENV}.`);
  const log = (options.logger ?? createLogger({ level: "warn", file: "-" })).child({ adapter: "telegram" });
  const { bot, api } = createGrammyClient({ token, apiRoot, throttle: config.throttle, retry: config.retry });
  const keys = new CallbackData(options.callbackKeys);
  const outbound = new TelegramOutbound({ api, token, keys, callTimeoutSeconds: config.callTimeoutSeconds });
  const capabilities: AdapterCapabilities = { editIntervalMs: config.editIntervalMs, maxTextLength: MAX_TEXT_LENGTH, persistentMessages: true };

  let handler: InboundHandler | undefined;
  let me: BotIdentity | undefined;
  /** Set by stop(): updates not yet taken stay unconfirmed, so Telegram delivers them again. */
  let stopping = false;
  let webhook: WebhookServer | undefined;
  let polling: Promise<void> | undefined;
  /** Updates being handed over; stop() waits for them (their offset may already be confirmed). */
  let inflight = 0;
  let drained: (() => void) | undefined;

  async function route(update: unknown): Promise<void> {
    if (stopping || !handler || !me) return;
    const inbound = toInbound(update, me);
    if (inbound.type === "ignored") {
      log.debug({ updateId: updateIdOf(update), reason: inbound.reason }, "telegram update ignored");
      return;
    }
    if (inbound.type === "answer-only") {
      log.debug({ updateId: updateIdOf(update), reason: inbound.reason }, "telegram button press not handed over");
      await answer(inbound.callbackQueryId);
      return;
    }
    const event: InboundEvent = inbound.event;
    if (inbound.callbackQueryId !== undefined && event.kind === "action") {
      const actionId = keys.decode(event.actionId);
      if (actionId === undefined) {
        await answer(inbound.callbackQueryId, "This button has expired. Send /status to see where the task is.");
        return;
      }
      // Stop the button's spinner first: the engine may take a while.
      await answer(inbound.callbackQueryId);
      event.actionId = actionId;
    }
    try {
      await handler(event);
    } catch (error) {
      log.error({ err: error, updateId: event.id }, "inbound handler failed");
    }
  }

  async function answer(queryId: string, text?: string): Promise<void> {
    await outbound.answerCallback(queryId, text).catch((error: unknown) => log.debug({ err: error }, "answerCallbackQuery failed"));
  }

  // The one middleware: every update goes through route(), which never throws.
  bot.use(async (ctx) => {
    // Stopping: a polled update not taken stays unconfirmed; a webhook update must not get a
    // 2xx, so Telegram delivers it again (webhook.ts answers 503).
    if (stopping && config.mode === "webhook") throw new UpdateRefused();
    inflight++;
    try {
      await route(ctx.update);
    } finally {
      if (--inflight === 0) drained?.();
    }
  });
  bot.catch((error) => log.error({ err: error.error }, "telegram update failed"));

  async function identify(): Promise<BotIdentity> {
    try {
      const info = await withDeadline((signal) => api.getMe(signal), { method: "getMe", token, seconds: Math.min(START_DEADLINE_SECONDS, config.callTimeoutSeconds) });
      bot.botInfo = info;
      return { id: info.id, username: info.username };
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      if (error instanceof ChatflowError && error.code === "not_found") {
        throw new AuthenticationError(`Telegram answered 404 Not Found to getMe: ${TOKEN_ENV} does not hold a valid bot token, or ${API_ROOT_ENV} does not point at a Bot API server. Check the token with @BotFather.`);
      }
      if (error instanceof NetworkError) {
        const where = apiRoot === DEFAULT_API_ROOT ? apiRoot : `${new URL(apiRoot).origin} (from ${API_ROOT_ENV})`;
        throw new NetworkError(`Could not reach the Telegram Bot API at ${where}: ${error.message}`);
      }
      throw error;
    }
  }

  async function registerCommands(): Promise<void> {
    const { commands, skipped } = menuCommands(options.commands);
    if (skipped.length > 0) log.warn({ skipped }, "commands left out of Telegram's menu (names must be 1-32 of a-z, 0-9, _); they still work when typed");
    try {
      await withDeadline((signal) => api.setMyCommands(commands, {}, signal), { method: "setMyCommands", token, seconds: Math.min(START_DEADLINE_SECONDS, config.callTimeoutSeconds) });
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      log.warn({ err: error }, "setMyCommands failed; the command menu is not updated");
    }
  }

  function startPolling(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let running = false;
      polling = bot
        .start({
          drop_pending_updates: false,
          allowed_updates: [...ALLOWED_UPDATES],
          onStart: () => {
            running = true;
            resolve();
          },
        })
        .catch((error: unknown) => {
          const mapped = toChatflowError(error, { method: "getUpdates", token });
          if (!running) return reject(mapped);
          const conflict = error instanceof Error && /409/.test(error.message);
          log.error({ err: mapped }, conflict ? "Telegram long polling stopped: another process polls with this token, or a webhook is set (409)" : "Telegram long polling stopped");
        });
    });
  }

  async function startWebhook(): Promise<void> {
    const { host, port, path, url } = config.webhook;
    webhook = await startWebhookServer({ bot, host, port, path, secret: secret!, log });
    try {
      await withDeadline(
        (signal) => api.setWebhook(url!, { secret_token: secret!, allowed_updates: [...ALLOWED_UPDATES], drop_pending_updates: false }, signal),
        { method: "setWebhook", token, seconds: Math.min(START_DEADLINE_SECONDS, config.callTimeoutSeconds) },
      );
    } catch (error) {
      await webhook.close();
      webhook = undefined;
      throw error;
    }
  }

  return {
    platform: "telegram",
    capabilities,
    get me() {
      return me;
    },
    get webhookPort() {
      return webhook?.port;
    },

    async start(onEvent) {
      if (handler) throw new ChatflowError("validation", "The Telegram adapter is already started: call start() once.");
      handler = onEvent;
      stopping = false;
      try {
        me = await identify();
        await registerCommands();
        if (config.mode === "polling") await startPolling();
        else await startWebhook();
        log.info({ bot: me.username, mode: config.mode }, "telegram adapter started");
      } catch (error) {
        handler = undefined;
        throw error;
      }
    },

    async stop() {
      if (!handler) return;
      stopping = true;
      if (polling) {
        // Aborts the long poll and confirms the offset of the update in hand (bounded: a slow
        // network must not hold up shutdown; an unconfirmed update only comes again).
        await Promise.race([bot.stop().catch((error: unknown) => log.warn({ err: toChatflowError(error, { method: "getUpdates", token }) }, "could not confirm the update offset")), delay(STOP_GRACE_MS)]);
        await polling;
        polling = undefined;
      }
      if (webhook) {
        await webhook.close();
        webhook = undefined;
      }
      if (inflight > 0) await new Promise<void>((resolve) => (drained = resolve));
      drained = undefined;
      handler = undefined;
    },

    send: (address, message) => outbound.send(address, message),
    edit: (address, messageId, message) => outbound.edit(address, messageId, message),
    typing: (address) => outbound.typing(address),
  };
}

/**
 * The adapter the `adapters.telegram` config section describes, with secrets from `env`
 * (TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT, TELEGRAM_WEBHOOK_SECRET). Undefined when the
 * section is absent or `enabled` is false. Throws a ConfigError naming the field
 * (`adapters.telegram.<field>`) or the environment variable.
 */
export function telegramAdapterFromConfig(
  section: unknown,
  env: NodeJS.ProcessEnv,
  options: { commands?: BotCommandOption[]; logger?: Logger } = {},
): TelegramAdapter | undefined {
  const config = parseTelegramConfig(section);
  if (!config.enabled) return undefined;
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
    ...options,
  });
}

function updateIdOf(update: unknown): unknown {
  return (update as { update_id?: unknown } | null)?.update_id;
}

function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
