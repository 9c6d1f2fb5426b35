import { GrammyError, HttpError } from "grammy";
import { AuthenticationError, ChatflowError, NetworkError, NotFoundError, PermissionError, RateLimitError } from "../../src/errors.ts";
import { TOKEN_ENV } from "./config.ts";

/** Where a failed call came from, for the error message. */
export interface CallContext {
  method: string;
  /** The chat the call targeted, if any. */
  chat?: string | number;
  /** The bot token: removed from every message (a fetch error's text may carry the request URL). */
  token: string;
  /** Set when the call's own deadline aborted it. */
  deadlineSeconds?: number;
}

// Telegram's 400 descriptions that mean "the target does not exist".
const NOT_FOUND = /chat not found|message to edit not found|message not found|user not found|thread not found|topic not found|message_id_invalid/i;

/** Whether a failed edit only repeated the message's current content (harmless). */
export function isNotModified(error: unknown): boolean {
  return error instanceof GrammyError && error.error_code === 400 && /message is not modified/i.test(error.description);
}

/** Removes the bot token from a text. */
export function scrub(text: string, token: string): string {
  return token ? text.split(token).join(`[${TOKEN_ENV}]`) : text;
}

/**
 * Maps a failed grammy call to chatflow's errors: 401 → AuthenticationError, 403 →
 * PermissionError (blocked, removed), 400 "chat not found" and the like → NotFoundError,
 * 429 left after retries → RateLimitError, the network → NetworkError. Other API
 * refusals become a ChatflowError `validation`. Messages never contain the token, and
 * network failures do not keep grammy's HttpError as their cause (its inner fetch error
 * carries the request URL, token included).
 */
export function toChatflowError(error: unknown, context: CallContext): ChatflowError {
  if (error instanceof ChatflowError) return error;
  const where = context.chat !== undefined ? ` in chat ${context.chat}` : "";
  if (error instanceof GrammyError) {
    const description = scrub(error.description, context.token);
    const summary = `Telegram refused ${context.method}${where}: ${error.error_code} ${description}`;
    switch (error.error_code) {
      case 401:
        return new AuthenticationError(`Telegram rejected the bot token in ${TOKEN_ENV} (401 ${description}). Check it with @BotFather (/mybots → API Token) and export it again.`);
      case 403:
        return new PermissionError(`${summary}. The bot was blocked by the user, removed from the chat, or may not post there.`);
      case 404:
        return new NotFoundError(`${summary}.`);
      case 429: {
        const seconds = typeof error.parameters.retry_after === "number" ? error.parameters.retry_after : 1;
        return new RateLimitError(`${summary}; retry after ${seconds} s.`, seconds * 1000);
      }
      default:
        if (error.error_code === 400 && NOT_FOUND.test(description)) return new NotFoundError(`${summary}.`);
        if (error.error_code >= 500) return new NetworkError(`${summary} (server error, given up after retries).`);
        return new ChatflowError("validation", `${summary}.`, { cause: error });
    }
  }
  if (context.deadlineSeconds !== undefined) {
    return new NetworkError(`Telegram API call ${context.method}${where} got no answer within ${context.deadlineSeconds} s (retries included).`);
  }
  if (error instanceof HttpError) {
    return new NetworkError(`Could not reach the Telegram Bot API for ${context.method}${where}: ${scrub(networkReason(error), context.token)}.`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NetworkError(`Telegram API call ${context.method}${where} failed: ${scrub(message, context.token)}`);
}

/** A short reason from the fetch error inside an HttpError, e.g. `ECONNREFUSED` or `socket hang up`. */
function networkReason(error: HttpError): string {
  const inner = error.error as { code?: unknown; errno?: unknown; message?: unknown; name?: unknown } | undefined;
  if (inner && typeof inner.code === "string") return inner.code;
  if (inner && typeof inner.errno === "string") return inner.errno;
  if (inner && inner.name === "AbortError") return "the request was aborted";
  // The message of node-fetch's FetchError names the URL; keep only what follows "reason:".
  const text = typeof inner?.message === "string" ? inner.message : error.message;
  const reason = /reason: (.*)$/.exec(text)?.[1];
  return reason ?? error.message;
}
