import { DiscordAPIError, HTTPError, RateLimitError as DiscordRateLimitError } from "discord.js";
import { AuthenticationError, ChatflowError, NetworkError, NotFoundError, PermissionError, RateLimitError } from "../../src/errors.ts";
import { TOKEN_ENV } from "./config.ts";

/** Discord's JSON error codes chatflow tells apart. */
export const CODES = {
  unknownChannel: 10003,
  unknownMessage: 10008,
  unknownInteraction: 10062,
  alreadyAcknowledged: 40060,
  missingAccess: 50001,
  cannotSendToUser: 50007,
  missingPermissions: 50013,
  invalidWebhookToken: 50027,
} as const;

/** Whether a failed call is Discord refusing an interaction's token (expired after 15 minutes). */
export function isExpiredToken(error: unknown): boolean {
  return error instanceof DiscordAPIError && (error.code === CODES.invalidWebhookToken || error.code === CODES.unknownInteraction || (error.status === 401 && /webhooks|interactions/.test(error.url)));
}

/** Where a failed call came from, for the error message. */
export interface CallContext {
  action: string;
  channel?: string;
  /** Removed from every message. */
  token: string;
}

/**
 * Maps a failed discord.js call to chatflow's errors: 401 → AuthenticationError (names
 * DISCORD_BOT_TOKEN); Missing Access (50001), Missing Permissions (50013), Cannot send to this
 * user (50007) → PermissionError; Unknown Channel / Message (10003 / 10008) → NotFoundError; a
 * 429 left after @discordjs/rest's own waiting → RateLimitError; network failures and 5xx →
 * NetworkError. Messages never contain the token. Discord's own answer (DiscordAPIError, its
 * rate limit, an HTTP error: method, URL, status and body, no token) is kept as `cause`; other
 * failures' are not, since they may carry the request's headers.
 */
export function toChatflowError(error: unknown, context: CallContext): ChatflowError {
  if (error instanceof ChatflowError) return error;
  const where = context.channel ? ` in channel ${context.channel}` : "";
  const scrub = (text: string) => (context.token ? text.split(context.token).join(`[${TOKEN_ENV}]`) : text);
  if (error instanceof DiscordAPIError) {
    const message = scrub(`Discord refused to ${context.action}${where}: ${error.message} (${String(error.code)})`);
    const cause = { cause: error };
    if (error.status === 401 && !isExpiredToken(error)) return new AuthenticationError(`${message}: check ${TOKEN_ENV}.`, cause);
    if (error.code === CODES.missingAccess || error.code === CODES.missingPermissions || error.code === CODES.cannotSendToUser || error.status === 403) return new PermissionError(message, cause);
    if (error.code === CODES.unknownChannel || error.code === CODES.unknownMessage || error.status === 404) return new NotFoundError(message, cause);
    return new ChatflowError("validation", message, cause);
  }
  if (error instanceof DiscordRateLimitError) return new RateLimitError(`Discord rate-limited ${context.action}${where}: retry after ${error.retryAfter} ms.`, error.retryAfter, { cause: error });
  if (error instanceof HTTPError) return new NetworkError(scrub(`Discord answered HTTP ${error.status} to ${context.action}${where}.`), { cause: error });
  const text = error instanceof Error ? error.message : String(error);
  if (/TokenInvalid|invalid token/i.test(text)) return new AuthenticationError(`Discord refused the bot token: check ${TOKEN_ENV}.`);
  return new NetworkError(scrub(`Could not ${context.action}${where}: ${text}`));
}
