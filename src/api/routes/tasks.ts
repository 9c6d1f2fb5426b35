import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { newId } from "../../port/index.ts";
import { isFinished, type Task } from "../../port/index.ts";
import { matchChoice } from "../../port/index.ts";
import { addressIn, visibleSession, visibleTask, type ApiDeps, type ApiEnv } from "../access.ts";
import { ApiError, forbidden } from "../errors.ts";
import { canonicalJson, idempotencyReused } from "../idempotency.ts";
import { freeJson } from "../json-limits.ts";
import { bodyErrorResponses, errorResponses, ErrorSchema, IdempotencyKeyHeader, IdParam, json, pageOf, PagingQuery, TaskSchema } from "../schemas.ts";
import { taskView } from "../views.ts";
import type { ApiUser } from "../auth.ts";

const TaskPage = pageOf(TaskSchema, "TaskPage");
/** The route an Idempotency-Key of POST /tasks is scoped to. */
const CREATE_ROUTE = "POST /api/v1/tasks";
const conflict = (message: string) => new ApiError(409, "conflict", message);

const routes = {
  create: createRoute({
    method: "post",
    path: "/tasks",
    tags: ["tasks"],
    summary: "Start a workflow; answers at once with the task id (poll GET /tasks/{id} or follow the events)",
    request: {
      headers: z.object({ "idempotency-key": IdempotencyKeyHeader }),
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({ workflow: z.string().min(1).max(100), input: freeJson("The workflow's input (see its schema).").optional(), sessionId: z.string().min(1).max(100).optional() }).strict(),
          },
        },
      },
    },
    responses: {
      202: json(z.object({ taskId: z.string(), sessionId: z.string(), status: z.string() }), "Started (or queued behind the session's task); a retry with the same Idempotency-Key and body gets the same task."),
      422: json(ErrorSchema, "`idempotency_key_reused`: the Idempotency-Key was used for a different request."),
      ...bodyErrorResponses,
    },
  }),
  list: createRoute({
    method: "get",
    path: "/tasks",
    tags: ["tasks"],
    summary: "Your tasks, newest first",
    request: {
      query: PagingQuery.extend({
        status: z.enum(["queued", "running", "waiting", "completed", "failed", "cancelled"]).optional(),
        workflow: z.string().min(1).optional(),
        session: z.string().min(1).optional(),
      }),
    },
    responses: { 200: json(TaskPage, "A page of tasks."), ...errorResponses },
  }),
  get: createRoute({
    method: "get",
    path: "/tasks/{id}",
    tags: ["tasks"],
    summary: "A task: status, percent, step, what it waits for, result or error, times",
    request: { params: IdParam },
    responses: { 200: json(TaskSchema, "The task."), ...errorResponses },
  }),
  answer: createRoute({
    method: "post",
    path: "/tasks/{id}/answer",
    tags: ["tasks"],
    summary: "Answer the task's question: a choice (its text or 1-based number) or free text",
    request: {
      params: IdParam,
      body: { required: true, content: { "application/json": { schema: z.object({ choice: z.union([z.string().min(1), z.number().int().min(1)]).optional(), text: z.string().min(1).optional() }).strict() } } },
    },
    responses: { 200: json(TaskSchema, "Accepted; the task goes on."), 409: json(z.object({ error: z.string(), message: z.string() }), "The task is not waiting for this answer."), ...bodyErrorResponses },
  }),
  review: createRoute({
    method: "post",
    path: "/tasks/{id}/review",
    tags: ["tasks"],
    summary: "Approve or reject the draft under review, optionally with corrected text and feedback",
    request: {
      params: IdParam,
      body: { required: true, content: { "application/json": { schema: z.object({ approved: z.boolean(), edited: z.string().min(1).optional(), feedback: z.string().min(1).optional() }).strict() } } },
    },
    responses: { 200: json(TaskSchema, "Accepted; the task goes on."), 409: json(z.object({ error: z.string(), message: z.string() }), "The task is not waiting for a review."), ...bodyErrorResponses },
  }),
  cancel: createRoute({
    method: "post",
    path: "/tasks/{id}/cancel",
    tags: ["tasks"],
    request: { params: IdParam },
    responses: { 200: json(TaskSchema, "Cancelled, or cancelling (`cancelRequested`: it stops at its next step)."), 409: json(z.object({ error: z.string(), message: z.string() }), "Already finished."), ...errorResponses },
  }),
};

/** Tasks over REST: start one, list and read them, answer, review, cancel. */
export function taskRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  const { host } = deps;

  app.openapi(routes.create, async (c) => {
    const user = c.get("user");
    const body = c.req.valid("json");
    // Looked up before the key is recorded: a request refused here (404) does not claim it.
    const named = body.sessionId ? await visibleSession(deps, user, body.sessionId) : undefined;
    if (named?.state === "closed") throw conflict("This session is closed; start a new one with POST /sessions or leave out sessionId.");
    // Without a session, the task gets a conversation of its own (opened once the start is accepted).
    const address = named ? addressIn(named, user) : { platform: deps.platform, channel: `w-${newId(8)}`, user: user.id, direct: true };
    const start = async (key: string | undefined) => {
      const started = await host.tasks.start({ workflow: body.workflow, input: body.input ?? {}, address, ...(named ? { sessionId: named.id } : {}), ...(key ? { key } : {}) });
      // Checked against the task itself too: the key's record expires, the task stays.
      if (started.existed && !sameRequest(started.task, body.workflow, started.input, body.sessionId)) throw idempotencyReused();
      return c.json({ taskId: started.task.id, sessionId: started.task.sessionId, status: started.task.status }, 202);
    };
    const key = c.req.valid("header")["idempotency-key"];
    if (key === undefined) return start(undefined);
    // The task's id derives from a hash of user, route and key: keys of different users never meet.
    const request = { workflow: body.workflow, input: body.input ?? null, sessionId: body.sessionId ?? null };
    return deps.idempotency.run({ user: user.id, route: CREATE_ROUTE, key, request }, ({ scope }) => start(`${deps.platform}:api-task:${scope}`));
  });

  app.openapi(routes.list, async (c) => {
    const user = c.get("user");
    const q = c.req.valid("query");
    if (q.session) await visibleSession(deps, user, q.session);
    if (q.all === "true" && !user.reviewer) throw forbidden("Only reviewers may list everyone's tasks.");
    const filter = {
      ...(q.all === "true" || q.session ? {} : { owner: user.id }),
      ...(q.status ? { status: q.status } : {}),
      ...(q.workflow ? { workflow: q.workflow } : {}),
      ...(q.session ? { sessionId: q.session } : {}),
    };
    const page = await host.tasks.list(filter, { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : { offset: q.offset ?? 0 }) });
    return c.json({ items: page.items.map(taskView), limit: q.limit, ...(q.cursor ? {} : { offset: q.offset ?? 0 }), nextCursor: page.nextCursor ?? null }, 200);
  });

  app.openapi(routes.get, async (c) => c.json(taskView(await visibleTask(deps, c.get("user"), c.req.valid("param").id)), 200));

  app.openapi(routes.answer, async (c) => {
    const user = c.get("user");
    const task = await actionable(deps, user, c.req.valid("param").id);
    const body = c.req.valid("json");
    const wait = task.waiting;
    if (task.status !== "waiting" || wait?.kind !== "ask") throw conflict(`The task is ${task.status === "waiting" ? "waiting for a review (POST /tasks/{id}/review)" : task.status}, not waiting for an answer.`);
    let value: string | undefined;
    if (body.choice !== undefined) {
      if (!wait.choices) throw new ApiError(400, "bad_request", "choice: this question takes free text; send text.");
      value = matchChoice(wait.choices, String(body.choice));
      if (value === undefined) throw new ApiError(400, "bad_request", `choice: "${body.choice}" is not one of: ${wait.choices.join(", ")}.`);
    } else if (body.text !== undefined) {
      value = wait.choices ? (matchChoice(wait.choices, body.text) ?? body.text) : body.text;
      if (wait.choices && !wait.choices.includes(value)) throw new ApiError(400, "bad_request", `text: pick one of: ${wait.choices.join(", ")}.`);
    } else {
      throw new ApiError(400, "bad_request", "Send choice or text.");
    }
    const accepted = await host.tasks.answer(task, wait, value, `${deps.platform}:api-${newId(8)}`, user.id);
    if (!accepted) throw conflict("That question was already answered.");
    return c.json(taskView(accepted), 200);
  });

  app.openapi(routes.review, async (c) => {
    const user = c.get("user");
    const task = await actionable(deps, user, c.req.valid("param").id);
    const body = c.req.valid("json");
    const wait = task.waiting;
    if (task.status !== "waiting" || wait?.kind !== "review") throw conflict(`The task is ${task.status === "waiting" ? "waiting for an answer (POST /tasks/{id}/answer)" : task.status}, not waiting for a review.`);
    if (body.edited !== undefined && !body.approved) throw new ApiError(400, "bad_request", "edited: corrected text goes with approved: true.");
    const verdict = { approved: body.approved, ...(body.edited !== undefined ? { edited: body.edited } : {}), ...(body.feedback !== undefined ? { feedback: body.feedback } : {}) };
    const accepted = await host.tasks.answer(task, wait, verdict, `${deps.platform}:api-${newId(8)}`, user.id);
    if (!accepted) throw conflict("That review was already answered.");
    return c.json(taskView(accepted), 200);
  });

  app.openapi(routes.cancel, async (c) => {
    const user = c.get("user");
    const task = await actionable(deps, user, c.req.valid("param").id);
    if (isFinished(task.status)) throw conflict(`The task has already ${task.status === "completed" ? "completed" : task.status === "failed" ? "failed" : "been cancelled"}.`);
    const ended = await host.tasks.cancel(task.id, user.id);
    return c.json(taskView(ended ?? task), 200);
  });

  return app;
}

/** A task the user sees (else 404) and may act on (else 403). */
async function actionable(deps: ApiDeps, user: ApiUser, id: string): Promise<Task> {
  const task = await visibleTask(deps, user, id);
  if (user.reviewer) return task;
  const session = await deps.host.sessions.get(task.sessionId);
  const address = session ? addressIn(session, user) : { ...task.address, user: user.id, direct: false };
  if (!deps.host.tasks.mayAct(task, address)) throw forbidden("Only the person who started this task, or a reviewer, may answer, review or cancel it.");
  return task;
}

/** Whether a stored task is what this request asks for (same workflow and input; the same session, when one is named). */
function sameRequest(task: Task, workflow: string, input: unknown, sessionId: string | undefined): boolean {
  return task.workflow === workflow && canonicalJson(task.input) === canonicalJson(input) && (sessionId === undefined || task.sessionId === sessionId);
}
