import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ChatflowError, RateLimitError } from "../errors.ts";

/** The one error shape of the API: a machine-readable `error` and a sentence for people. */
export interface ApiErrorBody {
  error: string;
  message: string;
}

/** An error answered as `{error, message}` with its status; never a stack trace. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, "not_found", `There is no ${what}.`);
/** A body that is not sent as JSON: the validators would not read it, and a route would act on an empty one. */
export const unsupportedMediaType = () => new ApiError(415, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.");
export const forbidden = (message: string) => new ApiError(403, "forbidden", message);

/** Whole seconds to wait, at least 1: Retry-After takes no fractions, and 0 would invite a retry storm. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The response for any error thrown by a route: ApiErrors as they are; the engine's
 * validation errors as 400, its conflicts (a busy session) as 409; its rate limits as 429 with Retry-After; a store that can't be
 * reached as 503 (the client may retry; the message is the store's sentence, which names no
 * secret); the rest as 500 without details.
 */
export function errorResponse(c: Context, error: unknown, log: (error: unknown) => void): Response {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json({ error: error.code, message: error.message } satisfies ApiErrorBody, error.status);
  }
  if (error instanceof HTTPException && error.status === 415) return errorResponse(c, unsupportedMediaType(), log);
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own refusals (a body that is not JSON, or not what Content-Type says).
    const message = /json/i.test(error.message) ? "The body is not valid JSON." : error.message || "The request is malformed.";
    return c.json({ error: "bad_request", message } satisfies ApiErrorBody, error.status as ContentfulStatusCode);
  }
  if (error instanceof ChatflowError && error.code === "validation") return c.json({ error: "bad_request", message: error.message } satisfies ApiErrorBody, 400);
  if (error instanceof ChatflowError && error.code === "conflict") return c.json({ error: "conflict", message: error.message } satisfies ApiErrorBody, 409);
  if (error instanceof RateLimitError) {
    c.header("Retry-After", String(retryAfterSeconds(error.retryAfterMs)));
    return c.json({ error: "rate_limited", message: error.message } satisfies ApiErrorBody, 429);
  }
  if (error instanceof ChatflowError && error.code === "store") {
    log(error);
    return c.json({ error: "store_unavailable", message: error.message } satisfies ApiErrorBody, 503);
  }
  log(error);
  return c.json({ error: "internal", message: "Something went wrong on the server. It was logged; please try again." } satisfies ApiErrorBody, 500);
}

/** A zod failure as one sentence naming the field: `text: Required`. */
export { issuesInOneLine as describeIssues } from "../errors.ts";
