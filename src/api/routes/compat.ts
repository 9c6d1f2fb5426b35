import { createRoute, OpenAPIHono, z, type OpenAPIHono as Doc } from "@hono/zod-openapi";
import { newId } from "../../port/index.ts";
import { visibleTask, type ApiDeps, type ApiEnv } from "../access.ts";
import { answerById, waitView } from "../compat/shared.ts";
import { ApiError } from "../errors.ts";
import { bodyErrorResponses, errorResponses, IdParam, json } from "../schemas.ts";

/**
 * Compatibility routes in the shape of the async question API chatflow replaces:
 * `POST /api/qa {question}` → `{task_id}`, then poll `GET /api/qa/{task_id}`. The question goes
 * to the routed workflow of plain messages (the assistant when configured), in a new session.
 * A task that asks its person something is `waiting`, with `question` (`{kind, question,
 * choices?, draft?}`); `POST /api/qa/{task_id}/answer` answers it. (The full old contracts,
 * at their own paths, are in src/api/compat, enabled by `adapters.web.compat`.)
 */
const servers = [{ url: "/api" }];
const QuestionSchema = z.object({ kind: z.enum(["question", "review"]), question: z.string(), choices: z.array(z.string()).optional(), draft: z.string().optional() });
const routes = {
  ask: createRoute({
    method: "post",
    path: "/qa",
    tags: ["compatibility"],
    servers,
    summary: "Ask a question; poll GET /qa/{id} for the answer",
    request: { body: { required: true, content: { "application/json": { schema: z.object({ question: z.string().min(1) }) } } } },
    responses: { 202: json(z.object({ task_id: z.string(), status: z.literal("pending") }), "Accepted."), ...bodyErrorResponses },
  }),
  poll: createRoute({
    method: "get",
    path: "/qa/{id}",
    tags: ["compatibility"],
    servers,
    summary: "A question's state: pending, running, waiting (for you: see `question`, answer at POST /qa/{id}/answer), completed, failed",
    request: { params: IdParam },
    responses: {
      200: json(
        z.object({
          task_id: z.string(),
          status: z.enum(["pending", "running", "waiting", "completed", "failed"]),
          progress: z.number(),
          step: z.string().nullable(),
          answer: z.string().nullable(),
          links: z.array(z.string()),
          error: z.string().nullable(),
          /** The question's text while `waiting` (kept for older clients; `question` has all of it). */
          waiting_for: z.string().nullable(),
          question: QuestionSchema.nullable(),
        }),
        "The task's state.",
      ),
      ...errorResponses,
    },
  }),
  answer: createRoute({
    method: "post",
    path: "/qa/{id}/answer",
    tags: ["compatibility"],
    servers,
    summary: "Answer a waiting question: `answer` (a choice's text or 1-based number, or free text); a review: `approved` (+ `edited`, `feedback`)",
    request: {
      params: IdParam,
      body: { required: true, content: { "application/json": { schema: z.object({ answer: z.union([z.string().min(1), z.number().int().min(1)]).optional(), approved: z.boolean().optional(), edited: z.string().min(1).optional(), feedback: z.string().min(1).optional() }).strict() } } },
    },
    responses: { 200: json(z.object({ task_id: z.string(), status: z.string() }), "Accepted; the task goes on (poll again)."), 409: json(z.object({ error: z.string(), message: z.string() }), "The task is not waiting."), ...bodyErrorResponses },
  }),
};

/** The routes above in an OpenAPI document (their `servers` is /api). */
export function describeCompatRoutes(doc: Doc<ApiEnv>): void {
  for (const route of Object.values(routes)) doc.openAPIRegistry.registerPath(route);
}

export function compatRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  const { host } = deps;

  app.openapi(routes.ask, async (c) => {
    const user = c.get("user");
    const { question } = c.req.valid("json");
    const limit = host.settings.maxMessageLength;
    if (question.length > limit) throw new ApiError(400, "bad_request", `question: ${question.length} characters; the limit is ${limit}.`);
    const workflow = host.messageWorkflow(deps.platform);
    if (!workflow) throw new ApiError(503, "unavailable", "No workflow answers plain questions here (routes.default.message).");
    // Each question is a conversation of its own, as in the API this mirrors.
    const address = { platform: deps.platform, channel: `w-${newId(8)}`, user: user.id, direct: true };
    const { task } = await host.tasks.start({ workflow, request: { text: question }, address });
    return c.json({ task_id: task.id, status: "pending" as const }, 202);
  });

  app.openapi(routes.poll, async (c) => {
    const task = await visibleTask(deps, c.get("user"), c.req.valid("param").id);
    // A task waiting for its person is not running: a client that polled for "completed" would wait forever.
    const status = task.status === "queued" ? "pending" : task.status === "cancelled" ? "failed" : task.status;
    const question = waitView(task);
    return c.json(
      {
        task_id: task.id,
        status,
        progress: task.percent,
        step: task.step ?? null,
        answer: task.result?.text ?? null,
        links: (task.result?.links ?? []).map((l) => l.url),
        error: task.status === "cancelled" ? "cancelled" : (task.error ?? null),
        waiting_for: question?.question ?? null,
        question,
      },
      200,
    );
  });

  app.openapi(routes.answer, async (c) => {
    const task = await answerById(deps, c.get("user"), c.req.valid("param").id, c.req.valid("json"));
    return c.json({ task_id: task.id, status: task.status === "queued" ? "pending" : task.status }, 200);
  });

  return app;
}
