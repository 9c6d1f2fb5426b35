import { ErrorCode } from "@slack/web-api";
import { AuthenticationError, ChatflowError, NetworkError, NotFoundError, PermissionError, RateLimitError } from "../../src/errors.ts";
import { BOT_TOKEN_ENV } from "./config.ts";

/** Where a failed call came from, for the error message. */
export interface CallContext {
  method: string;
  channel?: string;
  /** Removed from every message. */
  secrets: readonly string[];
}

/** Slack errors meaning the token is bad. */
const AUTH = new Set(["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "no_permission_for_token", "two_factor_setup_required"]);
/** The bot may not write there: a schedule to such a target is paused. */
const PERMISSION = new Set(["not_in_channel", "is_archived", "restricted_action", "missing_scope", "cant_update_message", "channel_is_archived", "ekm_access_denied", "team_access_not_granted"]);
/** The target does not exist. */
const NOT_FOUND = new Set(["channel_not_found", "message_not_found", "thread_not_found", "user_not_found", "not_found"]);

interface SlackErrorLike {
  code?: unknown;
  data?: { error?: unknown; needed?: unknown };
  retryAfter?: unknown;
  statusCode?: unknown;
  original?: unknown;
  message?: unknown;
}

/**
 * Maps a failed Web API call to chatflow's errors: token errors → AuthenticationError
 * (names SLACK_BOT_TOKEN); `not_in_channel`, `is_archived` and the like → PermissionError;
 * `channel_not_found`, `message_not_found` → NotFoundError; a 429 left after the client's
 * retries → RateLimitError; network failures and 5xx → NetworkError. Messages never contain
 * a token. Slack's own refusal (a platform error, a 429, an HTTP error: what Slack answered) is
 * kept as `cause`; a network failure's is not, since the HTTP client's error carries the
 * request's headers, the token among them.
 */
export function toChatflowError(error: unknown, context: CallContext): ChatflowError {
  if (error instanceof ChatflowError) return error;
  const e = (error ?? {}) as SlackErrorLike;
  const where = context.channel ? ` in ${context.channel}` : "";
  const scrub = (text: string) => context.secrets.reduce((acc, secret) => (secret ? acc.split(secret).join("[secret]") : acc), text);
  switch (e.code) {
    case ErrorCode.PlatformError: {
      const cause = { cause: error };
      const code = String(e.data?.error ?? "unknown_error");
      const message = `Slack refused ${context.method}${where}: ${code}`;
      if (AUTH.has(code)) {
        // account_inactive on a post means the bot (or its workspace) is gone: a schedule there pauses too.
        return code === "account_inactive" ? new PermissionError(`${message} (the bot's account is deactivated)`, cause) : new AuthenticationError(`${message}: check ${BOT_TOKEN_ENV}.`, cause);
      }
      if (PERMISSION.has(code)) return new PermissionError(code === "missing_scope" ? `${message} (needs ${String(e.data?.needed ?? "a scope")}; reinstall the app with the manifest's scopes)` : message, cause);
      if (NOT_FOUND.has(code)) return new NotFoundError(message, cause);
      if (code === "ratelimited") return new RateLimitError(message, 1000, cause);
      return new ChatflowError("validation", message, cause);
    }
    case ErrorCode.RateLimitedError: {
      const seconds = Number(e.retryAfter) || 1;
      return new RateLimitError(`Slack rate-limited ${context.method}${where}: retry after ${seconds} s.`, seconds * 1000, { cause: error });
    }
    case ErrorCode.HTTPError:
      return new NetworkError(`Slack answered HTTP ${String(e.statusCode)} to ${context.method}${where}.`, { cause: error });
    case ErrorCode.RequestError: {
      const original = e.original as { message?: unknown } | undefined;
      return new NetworkError(scrub(`Could not reach Slack for ${context.method}${where}: ${String(original?.message ?? e.message ?? "request failed")}`));
    }
    default:
      return new NetworkError(scrub(`${context.method}${where} failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}
