import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Message, Session } from "../../model.ts";
import { newId, type Task } from "../../port/index.ts";
import { visibleTask, type ApiDeps, type ApiEnv } from "../access.ts";
import type { ApiUser } from "../auth.ts";
import { describeIssues } from "../errors.ts";
import { answerById, isoOrNull, settled, stableAddress, SYNC_WAIT, waitView, writeIn } from "./shared.ts";

/**
 * `qa-async`: the async question API of async-qa-api.md, at its paths under /api/v2/chat.
 * `POST /qa/async` answers `{code: 200, msg, data: {task_id, status: "pending", created_at,
 * status_url}}` at once; `GET /qa/task/{task_id}/status` answers `{code, msg, data: {task_id,
 * status, created_at, started_at, completed_at, progress, result, error}}`. Statuses are the
 * document's pending, running, completed, failed (a cancelled task is failed, error
 * "cancelled"), and one it did not have: `waiting`, a task that asked a person something —
 * `data.question` says what (`{kind, question, choices?, draft?}`) and `data.answer_url`
 * where to answer (`POST /qa/task/{task_id}/answer`). The document's polling clients keep
 * polling through it. The synchronous `POST /qa` waits for the answer. One `chat_id` of a
 * user is one conversation: follow-up questions share its history. Errors are `{code, msg,
 * data: null}` with the same HTTP status.
 */
export const QA_ASYNC_PREFIX = "/api/v2/chat";

const Body = z.looseObject({
  input: z.string().min(1),
  chat_id: z.string().min(1).max(200).optional(),
  user_type: z.string().optional(),
  file_id: z.array(z.unknown()).optional(),
});
const Envelope = <T extends z.ZodType>(data: T) => z.object({ code: z.number(), msg: z.string(), data });
const TaskParam = z.object({ task_id: z.string().min(1).max(100).openapi({ param: { name: "task_id", in: "path" } }) });
const Result = Envelope(z.object({ chat_meta: z.record(z.string(), z.unknown()), session_title: z.string(), messages: z.array(z.object({ role: z.string(), content: z.string() })), error: z.null() }));
const Status = z.object({
  task_id: z.string(),
  status: z.enum(["pending", "running", "waiting", "completed", "failed"]),
  created_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  progress: z.number(),
  step: z.string().nullable(),
  result: Result.nullable(),
  error: z.string().nullable(),
  question: z.object({ kind: z.enum(["question", "review"]), question: z.string(), choices: z.array(z.string()).optional(), draft: z.string().optional() }).nullable(),
  answer_url: z.string().nullable(),
});
const errors = { 400: { description: "`{code: 400, msg, data: null}`" }, 401: { description: "No valid credential." }, 404: { description: "No such task (or not yours)." }, 409: { description: "The chat's previous question waits for an answer, or is still running." } };
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const servers = [{ url: QA_ASYNC_PREFIX }];

export const qaAsyncRoutes = {
  async: createRoute({ method: "post", path: "/qa/async", tags: ["compat: qa-async"], servers, summary: "Ask; answers at once with the task id", request: { body: { required: true, content: { "application/json": { schema: Body } } } }, responses: { 200: json(Envelope(z.object({ task_id: z.string(), status: z.literal("pending"), created_at: z.string(), status_url: z.string() })), "Created."), ...errors } }),
  status: createRoute({ method: "get", path: "/qa/task/{task_id}/status", tags: ["compat: qa-async"], servers, summary: "A task's status: pending, running, waiting (for a person: see question and answer_url), completed, failed", request: { params: TaskParam }, responses: { 200: json(Envelope(Status), "The task."), ...errors } }),
  answer: createRoute({
    method: "post",
    path: "/qa/task/{task_id}/answer",
    tags: ["compat: qa-async"],
    servers,
    summary: "Answer a waiting task: `answer` (a choice's text or number, or free text) for a question; `approved` (+ `edited`, `feedback`) for a review",
    request: { params: TaskParam, body: { required: true, content: { "application/json": { schema: z.object({ answer: z.union([z.string().min(1), z.number().int().min(1)]).optional(), approved: z.boolean().optional(), edited: z.string().min(1).optional(), feedback: z.string().min(1).optional() }).strict() } } } },
    responses: { 200: json(Envelope(z.object({ task_id: z.string(), status: z.string() })), "Accepted; the task goes on."), ...errors },
  }),
  sync: createRoute({ method: "post", path: "/qa", tags: ["compat: qa-async"], servers, summary: "Ask and wait for the answer (the old synchronous route)", request: { body: { required: true, content: { "application/json": { schema: Body } } } }, responses: { 200: json(Result, "The answer, as `result` of the status route."), 202: { description: "The task waits for a person: `data` is its status, with `question` and `answer_url`." }, 500: { description: "The task failed: `data.error`." }, 504: { description: "No answer in time: `data.status_url` to poll." }, ...errors } }),
};

/** What the document's result holds: chat_meta (the request's fields but `input`), the title, the question and the answers. */
interface Asked {
  meta: Record<string, unknown>;
  question: string;
}

export function qaAsyncApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: (result, c) => (result.success ? undefined : c.json({ code: 400, msg: describeIssues(result.error.issues), data: null }, 400)) });
  const { host } = deps;
  // The request's other fields, kept for the result's chat_meta (in memory: like the system
  // this replaces, a restart forgets them; the answer itself is in the session's history).
  const asked = new Map<string, Asked>();
  const remember = (id: string, value: Asked) => {
    asked.set(id, value);
    if (asked.size > 10_000) asked.delete(asked.keys().next().value!);
  };

  const ask = async (user: ApiUser, body: z.infer<typeof Body>): Promise<Task> => {
    const { input, ...meta } = body;
    const address = stableAddress(deps, user, "qa", body.chat_id ?? `once-${newId(12)}`);
    const task = await writeIn(deps, address, input, { answers: false });
    remember(task.id, { meta, question: input });
    const session = await host.sessions.get(task.sessionId);
    if (session && !session.topic) await host.sessions.update(session.id, { topic: title(input) });
    return task;
  };

  const result = async (task: Task) => {
    const session = await host.sessions.get(task.sessionId);
    const kept = asked.get(task.id);
    const history = await host.sessions.messages(task.sessionId, 200);
    const answers = history.filter((m: Message) => m.taskId === task.id && m.role !== "user").map((m) => ({ role: m.role, content: m.text, ...(m.links?.length ? { links: m.links } : {}), created_at: new Date(m.at).toISOString() }));
    const question = kept?.question ?? inputText(task);
    const messages = [...(question ? [{ role: "user", content: question }] : []), ...answers];
    if (answers.length === 0 && task.result) messages.push({ role: "assistant", content: task.result.text, created_at: isoOrNull(task.finishedAt)! });
    return { code: 200, msg: "success", data: { chat_meta: { ...kept?.meta, session_id: task.sessionId, task_id: task.id }, session_title: titleOf(session, question), messages, error: null } };
  };

  const status = async (task: Task) => {
    const status = task.status === "queued" ? "pending" : task.status === "cancelled" ? "failed" : task.status;
    const wait = waitView(task);
    return {
      task_id: task.id,
      status,
      created_at: new Date(task.createdAt).toISOString(),
      started_at: isoOrNull(task.startedAt),
      completed_at: task.status === "completed" || task.status === "failed" || task.status === "cancelled" ? isoOrNull(task.finishedAt) : null,
      progress: task.percent,
      step: task.step ?? null,
      result: task.status === "completed" ? await result(task) : null,
      error: task.status === "cancelled" ? "cancelled" : task.status === "failed" ? (task.error ?? "failed") : null,
      question: wait,
      answer_url: wait ? `${QA_ASYNC_PREFIX}/qa/task/${task.id}/answer` : null,
    };
  };

  app.openapi(qaAsyncRoutes.async, async (c) => {
    const task = await ask(c.get("user"), c.req.valid("json"));
    const data = { task_id: task.id, status: "pending" as const, created_at: new Date(task.createdAt).toISOString(), status_url: `${QA_ASYNC_PREFIX}/qa/task/${task.id}/status` };
    return c.json({ code: 200, msg: "任务已创建，请使用task_id查询状态", data }, 200);
  });

  app.openapi(qaAsyncRoutes.status, async (c) => {
    const task = await visibleTask(deps, c.get("user"), c.req.valid("param").task_id);
    return c.json({ code: 200, msg: "获取任务状态成功", data: await status(task) }, 200);
  });

  app.openapi(qaAsyncRoutes.answer, async (c) => {
    const task = await answerById(deps, c.get("user"), c.req.valid("param").task_id, c.req.valid("json"));
    return c.json({ code: 200, msg: "回答已提交", data: { task_id: task.id, status: task.status === "queued" ? "pending" : task.status } }, 200);
  });

  app.openapi(qaAsyncRoutes.sync, async (c) => {
    const task = await ask(c.get("user"), c.req.valid("json"));
    const done = await settled(host, task, SYNC_WAIT.ms);
    if (done?.status === "completed") return c.json(await result(done), 200);
    const data = await status(done ?? (await host.tasks.get(task.id)) ?? task);
    if (done?.status === "waiting") return c.json({ code: 202, msg: "任务等待回答，请使用answer_url回答", data }, 202);
    if (done) return c.json({ code: 500, msg: data.error ?? "failed", data }, 500);
    return c.json({ code: 504, msg: "处理超时，请使用status_url查询状态", data: { ...data, status_url: `${QA_ASYNC_PREFIX}/qa/task/${task.id}/status` } }, 504);
  });

  return app;
}

const title = (text: string) => (text.length > 20 ? `${text.slice(0, 20)}...` : text);
const titleOf = (session: Session | undefined, question: string | undefined) => session?.topic ?? title(question ?? "");
function inputText(task: Task): string | undefined {
  const input = task.input as { text?: unknown } | undefined;
  return typeof input?.text === "string" ? input.text : undefined;
}
