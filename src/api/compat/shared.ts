import { createHash } from "node:crypto";
import { RateLimitError } from "../../errors.ts";
import type { Address } from "../../model.ts";
import { isFinished, matchChoice, newId, type Host, type Task } from "../../port/index.ts";
import { addressIn, visibleTask, type ApiDeps } from "../access.ts";
import type { ApiUser } from "../auth.ts";
import { ApiError, forbidden } from "../errors.ts";

/** The old contracts chatflow can serve (`adapters.web.compat`). */
export const COMPAT_CONTRACTS = ["qa-async", "simple-chat", "chat-session"] as const;
export type CompatContract = (typeof COMPAT_CONTRACTS)[number];

/**
 * A conversation of one user that an old client names by a key of its own (a `chat_id`, or
 * nothing: one per user): always the same web session, so follow-up questions share history.
 * User and key are hashed together: two users' equal chat_ids never meet.
 */
export function stableAddress(deps: ApiDeps, user: ApiUser, prefix: string, key: string): Address {
  const hash = createHash("sha256").update(`${user.id}\0${key}`).digest("hex").slice(0, 24);
  return { platform: deps.platform, channel: `${prefix}-${hash}`, user: user.id, direct: true };
}

/** What a waiting task asks, as the compatibility routes show it. */
export interface WaitView {
  kind: "question" | "review";
  question: string;
  choices?: string[];
  /** The draft under review. */
  draft?: string;
}

export function waitView(task: Task): WaitView | null {
  const wait = task.status === "waiting" ? task.waiting : undefined;
  if (!wait) return null;
  if (wait.kind === "ask") return { kind: "question", question: wait.question, ...(wait.choices ? { choices: wait.choices } : {}) };
  return { kind: "review", question: wait.question, ...(wait.data !== undefined ? { draft: wait.data } : {}) };
}

/** An answer as the compatibility routes take it: `answer` (a choice's text or 1-based number, or free text) for a question; `approved` (+ `edited`, `feedback`) for a review. */
export interface AnswerBody {
  answer?: string | number | undefined;
  approved?: boolean | undefined;
  edited?: string | undefined;
  feedback?: string | undefined;
}

/** Gives a waiting task its answer, as POST /api/v1/tasks/{id}/answer and /review do; 403, 409 or 400 otherwise. */
export async function answerTask(deps: ApiDeps, user: ApiUser, task: Task, body: AnswerBody): Promise<Task> {
  const { host } = deps;
  if (!user.reviewer) {
    const session = await host.sessions.get(task.sessionId);
    const address = session ? addressIn(session, user) : { ...task.address, user: user.id, direct: false };
    if (!host.tasks.mayAct(task, address)) throw forbidden("Only the person who started this task, or a reviewer, may answer it.");
  }
  const wait = task.waiting;
  if (task.status !== "waiting" || !wait) throw new ApiError(409, "conflict", `The task is ${task.status}, not waiting for an answer.`);
  const key = `${deps.platform}:compat-${newId(8)}`;
  let accepted: Task | undefined;
  if (wait.kind === "ask") {
    if (body.answer === undefined || body.answer === "") throw new ApiError(400, "bad_request", `answer: required (${wait.choices ? `one of: ${wait.choices.join(", ")}, or its number` : "free text"}).`);
    const given = String(body.answer);
    const value = wait.choices ? matchChoice(wait.choices, given) : given;
    if (value === undefined) throw new ApiError(400, "bad_request", `answer: "${given}" is not one of: ${wait.choices!.join(", ")}.`);
    accepted = await host.tasks.answer(task, wait, value, key, user.id);
  } else {
    if (typeof body.approved !== "boolean") throw new ApiError(400, "bad_request", "approved: required (true or false) to answer a review.");
    if (body.edited !== undefined && !body.approved) throw new ApiError(400, "bad_request", "edited: corrected text goes with approved: true.");
    const verdict = { approved: body.approved, ...(body.edited ? { edited: body.edited } : {}), ...(body.feedback ? { feedback: body.feedback } : {}) };
    accepted = await host.tasks.answer(task, wait, verdict, key, user.id);
  }
  if (!accepted) throw new ApiError(409, "conflict", "That question was already answered.");
  return accepted;
}

/** Finds a task the user may see and answers it. */
export async function answerById(deps: ApiDeps, user: ApiUser, id: string, body: AnswerBody): Promise<Task> {
  return answerTask(deps, user, await visibleTask(deps, user, id), body);
}

/**
 * Writes `text` in the conversation at `address` as in a chat (history, routing of plain
 * messages): resolves the task it started, or the waiting task it answered when `answers`.
 * A waiting task is otherwise a 409 (its question must be answered on the answer route).
 */
export async function writeIn(deps: ApiDeps, address: Address, text: string, options: { answers: boolean }): Promise<Task> {
  const { host } = deps;
  const limit = host.settings.maxMessageLength;
  if (text.length > limit) throw new ApiError(400, "bad_request", `The message is ${text.length.toLocaleString("en-US")} characters long; the limit is ${limit.toLocaleString("en-US")}.`);
  if (!host.messageWorkflow(deps.platform)) throw new ApiError(503, "unavailable", "No workflow answers plain messages here (routes.default.message).");
  const session = await host.sessions.find(address);
  const active = session ? await host.tasks.active(session.id) : undefined;
  if (active?.status === "waiting" && !options.answers) {
    throw new ApiError(409, "waiting", `The previous question of this conversation (task ${active.id}) waits for an answer: send it to its answer route first.`);
  }
  const outcome = await host.handle({ kind: "message", id: `compat-${newId(10)}`, address, text });
  if (outcome.kind === "limited") throw new RateLimitError(outcome.message, outcome.retryAfterMs);
  if (outcome.kind === "failed") throw outcome.error;
  const id = outcome.kind === "task" ? outcome.taskId : active?.status === "waiting" ? active.id : undefined;
  const task = id ? await host.tasks.get(id) : undefined;
  if (!task) throw new ApiError(409, "busy", "The previous request of this conversation is still being worked on; try again when it is done.");
  return task;
}

/** Resolves the task once it has finished or waits for a person, or undefined after `timeoutMs`. */
export function settled(host: Host, task: Task, timeoutMs: number): Promise<Task | undefined> {
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const end = (value: Task | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    const check = async () => {
      const now = await host.tasks.get(task.id).catch(() => undefined);
      if (now && (isFinished(now.status) || now.status === "waiting")) end(now);
    };
    const unsubscribe = host.events.subscribe({ taskId: task.id }, (event) => {
      if (event.type === "end" || event.type === "question" || event.type === "review") void check();
    });
    timer = setTimeout(() => end(undefined), timeoutMs);
    void unsubscribe.ready.then(check);
  });
}

/** How long the synchronous routes (`POST /api/chat`, `POST /api/v2/chat/qa`) wait for an answer, in ms; tests may lower it. */
export const SYNC_WAIT = { ms: 120_000 };

export const isoOrNull = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
