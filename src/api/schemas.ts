import { z } from "@hono/zod-openapi";

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

export const errorResponses = {
  400: { description: "The request is malformed; the message names the field.", content: { "application/json": { schema: ErrorSchema } } },
  401: { description: "No valid API token or JWT.", content: { "application/json": { schema: ErrorSchema } } },
  403: { description: "Not yours to see or act on.", content: { "application/json": { schema: ErrorSchema } } },
  404: { description: "No such resource (or not yours).", content: { "application/json": { schema: ErrorSchema } } },
  429: { description: "Too many requests; see Retry-After.", content: { "application/json": { schema: ErrorSchema } } },
} as const;

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}
