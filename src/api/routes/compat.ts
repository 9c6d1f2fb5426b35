import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { newId } from "../../port/index.ts";
import { visibleTask, type ApiDeps, type ApiEnv } from "../access.ts";
import { ApiError } from "../errors.ts";
import { bodyErrorResponses, errorResponses, IdParam, json } from "../schemas.ts";

/**
 * Compatibility routes in the shape of the async question API chatflow replaces:
 * `POST /api/qa {question}` → `{task_id}`, then poll `GET /api/qa/{task_id}`. The question goes
 * to the routed workflow of plain messages (the assistant when configured), in a new session.
 */
const routes = {
  ask: createRoute({
    method: "post",
    path: "/qa",
    tags: ["compatibility"],
    request: { body: { required: true, content: { "application/json": { schema: z.object({ question: z.string().min(1) }) } } } },
    responses: { 202: json(z.object({ task_id: z.string(), status: z.literal("pending") }), "Accepted."), ...bodyErrorResponses },
  }),
  poll: createRoute({
    method: "get",
    path: "/qa/{id}",
    tags: ["compatibility"],
    request: { params: IdParam },
    responses: {
      200: json(
        z.object({
          task_id: z.string(),
          status: z.enum(["pending", "running", "completed", "failed"]),
          progress: z.number(),
          step: z.string().nullable(),
          answer: z.string().nullable(),
          links: z.array(z.string()),
          error: z.string().nullable(),
          waiting_for: z.string().nullable(),
        }),
        "The task's state.",
      ),
      ...errorResponses,
    },
  }),
};

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
    const status = task.status === "queued" ? "pending" : task.status === "waiting" ? "running" : task.status === "cancelled" ? "failed" : task.status;
    return c.json(
      {
        task_id: task.id,
        status,
        progress: task.percent,
        step: task.step ?? null,
        answer: task.result?.text ?? null,
        links: (task.result?.links ?? []).map((l) => l.url),
        error: task.status === "cancelled" ? "cancelled" : (task.error ?? null),
        waiting_for: task.waiting?.question ?? null,
      },
      200,
    );
  });

  return app;
}
