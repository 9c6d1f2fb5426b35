import { z } from "@hono/zod-openapi";
import { JSON_LIMITS_TEXT } from "./json-limits.ts";

/** The API's shapes, validated on the way in and described in the OpenAPI document. */

export const ErrorSchema = z.object({ error: z.string(), message: z.string() }).openapi("Error");

const iso = z.string().openapi({ example: "2026-11-22T08:00:00.000Z" });
const LinkSchema = z.object({ url: z.string(), title: z.string().optional() }).openapi("Link");

export const WaitSchema = z
  .object({
    kind: z.enum(["question", "review"]),
    question: z.string(),
    choices: z.array(z.string()).optional(),
    /** The draft under review. */
    data: z.string().optional(),
    /** What the draft is, for people (absent: a draft; "Input" for an agent's tool call). */
    label: z.string().optional(),
  })
  .openapi("Wait");

export const TaskSchema = z
  .object({
    id: z.string(),
    workflow: z.string(),
    status: z.enum(["queued", "running", "waiting", "completed", "failed", "cancelled"]),
    percent: z.number(),
    step: z.string().nullable(),
    sessionId: z.string(),
    owner: z.string(),
    waitingFor: WaitSchema.nullable(),
    result: z.object({ text: z.string(), links: z.array(LinkSchema).optional() }).nullable(),
    error: z.string().nullable(),
    cancelRequested: z.boolean(),
    attempts: z.number(),
    createdAt: iso,
    updatedAt: iso,
    startedAt: iso.nullable(),
    finishedAt: iso.nullable(),
  })
  .openapi("Task");

export const SessionSchema = z
  .object({
    id: z.string(),
    platform: z.string(),
    channel: z.string(),
    thread: z.string().optional(),
    owner: z.string(),
    state: z.enum(["idle", "running", "waiting", "closed"]),
    topic: z.string().nullable(),
    createdAt: iso,
    updatedAt: iso,
    lastActiveAt: iso,
    closedAt: iso.nullable(),
  })
  .openapi("Session");

export const MessageSchema = z
  .object({
    id: z.string(),
    role: z.enum(["user", "assistant", "system"]),
    text: z.string(),
    source: z.enum(["user", "workflow", "scheduled", "command"]),
    user: z.string().optional(),
    links: z.array(LinkSchema).optional(),
    taskId: z.string().optional(),
    at: iso,
  })
  .openapi("Message");

export const ScheduleSchema = z
  .object({
    id: z.string(),
    cron: z.string(),
    timezone: z.string(),
    sessionId: z.string().nullable(),
    text: z.string().optional(),
    prompt: z.string().optional(),
    withHistory: z.boolean().optional(),
    workflow: z.string().optional(),
    input: z.unknown().optional(),
    enabled: z.boolean(),
    pausedReason: z.string().nullable(),
    missedPolicy: z.enum(["skip", "latest", "all"]),
    next: iso.nullable(),
    lastError: z.string().nullable(),
    origin: z.enum(["config", "chat"]),
  })
  .openapi("Schedule");

/** A page: `nextCursor` (stable under inserts) or `offset` + `limit` for the next one. */
export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z.object({ items: z.array(item), limit: z.number(), offset: z.number().optional(), nextCursor: z.string().nullable() }).openapi(name);
}

export const PagingQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ param: { name: "limit", in: "query" } }),
  offset: z.coerce.number().int().min(0).optional().openapi({ param: { name: "offset", in: "query" } }),
  cursor: z.string().min(1).optional().openapi({ param: { name: "cursor", in: "query" } }),
  /** Reviewers: everyone's, not only their own. */
  all: z.enum(["true", "false"]).optional().openapi({ param: { name: "all", in: "query" }, description: "Reviewers only: everyone's, not only yours." }),
});

export const IdParam = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: "id", in: "path" } }) });

const errorContent = { "application/json": { schema: ErrorSchema } };

export const errorResponses = {
  400: { description: "The request is malformed; the message names the field.", content: errorContent },
  401: { description: "No valid API token or JWT (a JWT needs `exp`).", content: errorContent },
  403: { description: "Not yours to see or act on.", content: errorContent },
  404: { description: "No such resource (or not yours).", content: errorContent },
  429: { description: "Too many requests, or too many failed sign-ins from this address; see Retry-After (whole seconds).", content: errorContent },
  503: { description: "`store_unavailable`: the bot's store can't be read or written now; try again later.", content: errorContent },
} as const;

/** The errors of a route that takes a JSON body: those of every route, an oversize body, and JSON_LIMITS. */
export const bodyErrorResponses = {
  ...errorResponses,
  400: { description: `The request is malformed; the message names the field. ${JSON_LIMITS_TEXT}`, content: errorContent },
  413: { description: "The body is over `bodyLimitBytes` (1 MiB by default).", content: errorContent },
  415: { description: "`unsupported_media_type`: the body is not sent as application/json.", content: errorContent },
} as const;

/** An Idempotency-Key header: scoped to the user and the route; reused for a different request, 422. */
export const IdempotencyKeyHeader = z
  .string()
  .min(1)
  .max(100)
  .optional()
  .openapi({
    param: { name: "idempotency-key", in: "header" },
    description: "Makes a retry safe: the same key with the same target and body gets the first result; with anything else, 422 idempotency_key_reused. Keys are yours alone (scoped to you and this route) and remembered for 24 hours.",
  });

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}
