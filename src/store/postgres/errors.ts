/**
 * PostgreSQL failures as chatflow sentences. The database URL is a secret: no sentence made
 * here contains it or its password (`scrub` removes them from any text taken from an error,
 * as a safety net), and connection targets are named as host:port.
 */
import { ChatflowError, ConfigError } from "../../errors.ts";

/** Where the store connects, without the password: for sentences and logs. */
export interface Target {
  host: string;
  port: number;
  user: string;
  database: string;
  /** The environment variable the URL came from, for sentences. */
  from: string;
}

/** The fields of a pg error chatflow looks at. */
interface PgErrorFields {
  code?: string;
  constraint?: string;
  message?: string;
}

/** The pg error behind `error` (itself, or the cause of a ChatflowError made from it). */
function pgFields(error: unknown): PgErrorFields {
  const e = error as { code?: unknown; cause?: unknown } | undefined;
  if (e instanceof ChatflowError) return pgFields(e.cause);
  return typeof e === "object" && e !== null ? (e as PgErrorFields) : {};
}

/** The SQLSTATE (or Node error code) of a failure, if any. */
export function pgCode(error: unknown): string | undefined {
  const code = pgFields(error).code;
  return typeof code === "string" ? code : undefined;
}

/** The constraint a failure names (unique violations), if any. */
export function pgConstraint(error: unknown): string | undefined {
  const constraint = pgFields(error).constraint;
  return typeof constraint === "string" ? constraint : undefined;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EPIPE", "ECONNABORTED"]);
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|Client was closed|Cannot use a pool after calling end/i;

/** True when a query failed because the server could not be reached or the connection broke (not because of the query). */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof ChatflowError && (error as { connection?: boolean }).connection === true) return true;
  const { code, message } = pgFields(error);
  if (code !== undefined && (NETWORK_CODES.has(code) || code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03")) return true;
  return typeof message === "string" && CONNECTION_MESSAGES.test(message);
}

/** Removes the URL and its password from a text taken from an error. */
export function scrub(text: string, url: string): string {
  let out = text;
  const secrets = [url];
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password.length > 0) secrets.push(password, encodeURIComponent(password));
  } catch {
    // Not a URL: only the whole string is hidden.
  }
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join("[redacted]");
  return out;
}

/** Why a connection failed, in a few words. */
function reason(error: unknown, target: Target, url: string, timeoutMs: number): string {
  const { code, message } = pgFields(error);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens there)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name ${target.host} was not found`;
    case "ETIMEDOUT":
      return "the connection timed out";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "no route to the host";
    case "ECONNRESET":
      return "the connection was reset";
    default:
      break;
  }
  if (typeof message === "string" && /timeout/i.test(message)) return `no answer within ${timeoutMs / 1000} s`;
  const text = scrub(typeof message === "string" && message.length > 0 ? message : String(error), url);
  return code !== undefined ? `${text} (${code})` : text;
}

/** A failure of `open()` as a sentence that says what to do. */
export function openFailure(failure: unknown, target: Target, url: string, timeoutMs: number): ChatflowError {
  // A query's failure (queryFailure) is judged by the pg error under it; chatflow's own (a ConfigError) stands.
  const error = failure instanceof ChatflowError && pgCode(failure) !== undefined ? failure.cause : failure;
  if (error instanceof ChatflowError && !isConnectionFailure(error)) return error;
  const at = `${target.host}:${target.port}`;
  const code = pgCode(error);
  if (code === "28P01" || code === "28000") {
    const detail = scrub(pgFields(error).message ?? "", url);
    return new ConfigError(
      `PostgreSQL at ${at} refused the user ${JSON.stringify(target.user)} (${detail || "authentication failed"}): the password is wrong or there is no such role. Fix the user and password in ${target.from}.`,
      { cause: error },
    );
  }
  if (code === "3D000") {
    return new ConfigError(`The database ${JSON.stringify(target.database)} does not exist on PostgreSQL at ${at}: create it (createdb ${target.database}) or fix the database name in ${target.from}.`, { cause: error });
  }
  if (code === "42501") {
    return new ConfigError(
      `The PostgreSQL user ${JSON.stringify(target.user)} may not create chatflow's tables in the database ${JSON.stringify(target.database)} at ${at} (${scrub(pgFields(error).message ?? "permission denied", url)}): grant it CREATE on the database, or point ${target.from} at a user that has it.`,
      { cause: error },
    );
  }
  if (isConnectionFailure(error) || code === undefined) {
    return new ChatflowError("store", `Could not reach PostgreSQL at ${at} (from ${target.from}): ${reason(error, target, url, timeoutMs)}. Start the server or fix the URL.`, { cause: error });
  }
  return new ChatflowError("store", `Could not open the PostgreSQL store at ${at}, database ${JSON.stringify(target.database)} (from ${target.from}): ${reason(error, target, url, timeoutMs)}.`, { cause: error });
}

/** A failed query as a ChatflowError (code `store`, or `validation` for data PostgreSQL can't keep); the pg error is its cause. */
export function queryFailure(error: unknown, what: string, target: Target, url: string, timeoutMs: number): ChatflowError {
  if (error instanceof ChatflowError) return error;
  const code = pgCode(error);
  if (code === "22P05" || code === "22021") {
    return new ChatflowError("validation", `The ${what} was not stored: it holds a NUL character (\\u0000) or invalid text, which PostgreSQL can't keep. Remove it and try again.`, { cause: error });
  }
  if (isConnectionFailure(error)) {
    const failure = new ChatflowError("store", `PostgreSQL at ${target.host}:${target.port} could not be reached to ${what}: ${reason(error, target, url, timeoutMs)}. Check that the server runs; the store reports healthy again after a query that works.`, {
      cause: error,
    });
    (failure as { connection?: boolean }).connection = true;
    return failure;
  }
  return new ChatflowError("store", `PostgreSQL refused to ${what}: ${reason(error, target, url, timeoutMs)}.`, { cause: error });
}
