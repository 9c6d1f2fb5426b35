/** Machine-readable error codes; `message` is for people. */
export type ErrorCode =
  | "config"
  | "store_locked"
  | "store_corrupt"
  | "store"
  | "validation"
  | "conflict"
  | "not_found"
  | "permission"
  | "auth"
  | "rate_limit"
  | "network"
  | "cancelled"
  | "timeout"
  | "not_implemented"
  | "workflow";

/** The base of every error chatflow throws on purpose. Messages never contain secrets. */
export class ChatflowError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration: the message names the file and field, or the environment variable. */
export class ConfigError extends ChatflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("config", message, options);
  }
}

/** Another process holds the data directory. */
export class StoreLockedError extends ChatflowError {
  constructor(message: string) {
    super("store_locked", message);
  }
}

/** A store file can't be read; it is left untouched. */
export class StoreCorruptError extends ChatflowError {
  constructor(readonly file: string, detail: string, options?: { cause?: unknown }) {
    super("store_corrupt", `The store file ${file} is corrupt (${detail}). chatflow did not change it: restore it from a backup or move it away, then start again.`, options);
  }
}

/** A step error that must not be retried. */
export class NonRetriableError extends ChatflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("workflow", message, options);
  }
}

/** The task was cancelled (thrown inside workflows at step boundaries). */
export class TaskCancelledError extends ChatflowError {
  constructor() {
    super("cancelled", "The task was cancelled.");
  }
}

/** The task ran longer than its timeout. */
export class TaskTimeoutError extends ChatflowError {
  constructor(timeoutMs: number) {
    super("timeout", `The task ran longer than its timeout of ${Math.round(timeoutMs / 1000)} s.`);
  }
}

/** An adapter lacks an optional capability. */
export class NotImplementedError extends ChatflowError {
  constructor(feature: string) {
    super("not_implemented", `This adapter does not support ${feature}.`);
  }
}

/** The platform asked us to slow down; retry after `retryAfterMs`. */
export class RateLimitError extends ChatflowError {
  constructor(message: string, readonly retryAfterMs: number, options?: { cause?: unknown }) {
    super("rate_limit", message, options);
  }
}

/** The platform rejected the credentials; the message names the environment variable to set. */
export class AuthenticationError extends ChatflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("auth", message, options);
  }
}

/** The bot may not act there (blocked, removed from the chat, missing scope): platform 403. */
export class PermissionError extends ChatflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("permission", message, options);
  }
}

/** The target does not exist (chat, channel, message): platform 404 or equivalent. */
export class NotFoundError extends ChatflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("not_found", message, options);
  }
}

/** The platform could not be reached. */
export class NetworkError extends ChatflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("network", message, options);
  }
}

/** Validation issues (zod's, or any with a path and a message) as one sentence naming the fields: `text: Required; amount: Too small`. */
export function issuesInOneLine(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
