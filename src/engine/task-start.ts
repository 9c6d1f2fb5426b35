import { ChatflowError } from "../errors.ts";
import { derivedId, newId } from "../ids.ts";
import type { Store } from "../store/port.ts";
import type { TaskRunner } from "../tasks/runner.ts";
import type { StartedTask, StartInput, StartTaskRequest } from "../port/host.ts";
import type { Workflow } from "../tasks/workflow.ts";
import type { Sessions } from "./sessions.ts";

/**
 * A workflow's input from a start: made from the request by `fromRequest` (or `{text}`), or
 * given; validated against the workflow's schema. Throws ChatflowError("validation") whose
 * message names the field (`input.text: …`).
 */
export function workflowInput(workflow: Workflow<any>, start: StartInput): unknown {
  const raw = "request" in start ? (workflow.fromRequest ? workflow.fromRequest(start.request) : { text: start.request.text }) : (start.input ?? {});
  if (!workflow.input) return raw;
  const parsed = workflow.input.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = ["input", ...(issue?.path.map(String) ?? [])].join(".");
  throw new ChatflowError("validation", `${field}: ${issue?.message ?? "invalid input"}`);
}

/** A person's text over `history.maxMessageLength`, refused as a validation error naming the field and the limit. */
export function checkLength(field: string, text: string | undefined, limit: number): void {
  if (text !== undefined && text.length > limit) {
    throw new ChatflowError("validation", `${field}: ${text.length.toLocaleString("en-US")} characters; the limit is ${limit.toLocaleString("en-US")} (history.maxMessageLength).`);
  }
}

/** The session runs a task and `tasks.busy` is `reject`. */
export class SessionBusyError extends ChatflowError {
  constructor() {
    super("conflict", "This session is still working on an earlier request: wait for it to finish, or cancel it.");
  }
}

export interface TaskStartDeps {
  store: Store;
  sessions: Sessions;
  runner: TaskRunner;
  workflows: ReadonlyMap<string, Workflow<any>>;
  busy: "queue" | "reject";
  /** Longest request text, in characters (`history.maxMessageLength`), whichever path it came by. */
  maxTextLength: number;
}

/**
 * The one way a task starts, whoever asks (a chat message or command, the HTTP API, a
 * schedule, a workflow author's test): it finds the workflow, makes the input from a request
 * (`fromRequest`) and validates it against the workflow's schema, derives the id from the
 * start's key, applies the session's busy policy, and submits, where the owner's task limit
 * is taken. A refusal is a ChatflowError with code `validation` whose message names the field
 * (a 400 over HTTP, a reply in chat), or a RateLimitError over the limit.
 */
export class TaskStarts {
  readonly #d: TaskStartDeps;

  constructor(deps: TaskStartDeps) {
    this.#d = deps;
  }

  /** The named workflow, or a validation error listing the known ones. */
  workflow(name: string): Workflow<any> {
    const workflow = this.#d.workflows.get(name);
    if (!workflow) throw new ChatflowError("validation", `workflow: there is no workflow "${name}" (known: ${[...this.#d.workflows.keys()].join(", ")}).`);
    return workflow;
  }

  async start(request: StartTaskRequest): Promise<StartedTask> {
    const workflow = this.workflow(request.workflow);
    if ("request" in request) checkLength("text", request.request.text, this.#d.maxTextLength);
    const input = workflowInput(workflow, request);
    const id = request.key !== undefined ? derivedId("t-", request.key) : undefined;
    const earlier = id ? await this.#d.store.getTask(id) : undefined;
    if (earlier) return { task: earlier, existed: true, queued: false, input };
    // A session is opened only for a start that was accepted so far: a refused one leaves no empty session behind.
    const session = request.sessionId !== undefined ? await this.#d.store.getSession(request.sessionId) : await this.#d.sessions.open(request.address);
    if (!session) throw new ChatflowError("not_found", `There is no session ${request.sessionId}.`);
    if (session.state === "closed") throw new ChatflowError("conflict", "This session is closed; start a new one.");
    const behind = (await this.#d.runner.activeTaskId(session.id)) !== undefined;
    if (behind && (request.whenBusy ?? "policy") === "policy" && this.#d.busy === "reject") throw new SessionBusyError();
    const task = await this.#d.runner.submit({
      // Every task id has one shape, `t-…`, whether a key made it or not.
      id: id ?? `t-${newId(15)}`,
      sessionId: session.id,
      address: request.address,
      workflow: workflow.name,
      input,
      ...(request.source ? { source: request.source } : {}),
      ...(request.unmetered ? { unmetered: true } : {}),
    });
    return { task, existed: false, queued: behind, input };
  }
}
