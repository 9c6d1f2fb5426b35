import type { Api, Bot } from "grammy";
import { AuthenticationError, ChatflowError, NetworkError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { withDeadline } from "./client.ts";
import type { BotCommandOption } from "./commands.ts";
import { API_ROOT_ENV, DEFAULT_API_ROOT, TOKEN_ENV, type TelegramConfig } from "./config.ts";
import { toChatflowError } from "./errors.ts";
import type { BotIdentity } from "./inbound.ts";
import { startWebhookServer, type WebhookServer } from "./webhook.ts";

/** The update types chatflow reads; Telegram then sends no others. */
export const ALLOWED_UPDATES = ["message", "callback_query"] as const;
/** Longest wait for the API at start (getMe, setMyCommands, setWebhook), in s. */
const START_DEADLINE_SECONDS = 30;
/** Longest wait for grammY to confirm the update offset at stop, in ms. */
const STOP_GRACE_MS = 5000;

/** What connecting to Telegram needs. */
export interface ConnectionParts {
  bot: Bot;
  /** The sending Api (retries, pacing). */
  api: Api;
  token: string;
  apiRoot: string;
  config: TelegramConfig;
  log: Logger;
}

function startDeadline(parts: ConnectionParts): number {
  return Math.min(START_DEADLINE_SECONDS, parts.config.callTimeoutSeconds);
}

/** getMe: who the bot is. A rejected token or a wrong API root fails with an error naming the variable. */
export async function identify(parts: ConnectionParts): Promise<BotIdentity> {
  const { api, bot, token, apiRoot } = parts;
  try {
    const info = await withDeadline((signal) => api.getMe(signal), { method: "getMe", token, seconds: startDeadline(parts) });
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

/** setMyCommands: the command menu. Only a rejected token stops the start; other failures are logged. */
export async function registerCommands(parts: ConnectionParts, commands: BotCommandOption[]): Promise<void> {
  try {
    await withDeadline((signal) => parts.api.setMyCommands(commands, {}, signal), { method: "setMyCommands", token: parts.token, seconds: startDeadline(parts) });
  } catch (error) {
    if (error instanceof AuthenticationError) throw error;
    parts.log.warn({ err: error }, "setMyCommands failed; the command menu is not updated");
  }
}

/** Long polling: resolves once polling runs; a failure before that rejects (e.g. 401, 409). */
export function startPolling(parts: ConnectionParts): Promise<{ stop(): Promise<void> }> {
  const { bot, token, log } = parts;
  return new Promise((resolve, reject) => {
    let running = false;
    const polling = bot
      .start({
        drop_pending_updates: false,
        allowed_updates: [...ALLOWED_UPDATES],
        onStart: () => {
          running = true;
          resolve({ stop });
        },
      })
      .catch((error: unknown) => {
        const mapped = toChatflowError(error, { method: "getUpdates", token });
        if (!running) return reject(mapped);
        const conflict = error instanceof Error && /409/.test(error.message);
        log.error({ err: mapped }, conflict ? "Telegram long polling stopped: another process polls with this token, or a webhook is set (409)" : "Telegram long polling stopped");
      });
    // Aborts the long poll and confirms the offset of the update in hand (bounded: a slow
    // network must not hold up shutdown; an unconfirmed update only comes again).
    async function stop(): Promise<void> {
      const confirm = bot.stop().catch((error: unknown) => log.warn({ err: toChatflowError(error, { method: "getUpdates", token }) }, "could not confirm the update offset"));
      await Promise.race([confirm, delay(STOP_GRACE_MS)]);
      await polling;
    }
  });
}

/** Webhook: listens, then registers the URL with setWebhook (closing the server if that fails). */
export async function startWebhook(parts: ConnectionParts, secret: string): Promise<WebhookServer> {
  const { host, port, path, url } = parts.config.webhook;
  const server = await startWebhookServer({ bot: parts.bot, host, port, path, secret, log: parts.log });
  try {
    await withDeadline(
      (signal) => parts.api.setWebhook(url!, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES], drop_pending_updates: false }, signal),
      { method: "setWebhook", token: parts.token, seconds: startDeadline(parts) },
    );
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
