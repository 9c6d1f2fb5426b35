import type { z } from "zod";
import type { Logger } from "../logger.ts";
import type { Address, Link, Message } from "../model.ts";

/** What a person answered to a review. */
export interface ReviewVerdict {
  approved: boolean;
  /** The corrected text, when the person chose Edit. */
  edited?: string;
  /** Free-text feedback, when given. */
  feedback?: string;
}

export interface AskOptions {
  /** Offer these answers as buttons. Without choices the next message of the person is the answer. */
  choices?: string[];
  /**
   * A stable name for this question (default: none, it is known by its order among the
   * workflow's questions). With an `id` its answer is found by the id, so the question may
   * move (another question inserted before it) while tasks wait on it. Its text and choices
   * must stay the same: to change them, give it a new id (waiting tasks are then asked again).
   * Give the id when the question is written: adding one to a question tasks already wait on
   * is a change of its address, and those tasks stop.
   */
  id?: string;
}

export interface ReviewOptions {
  /** The draft to approve, reject or edit. */
  data: string;
  /** What `data` is, for people (the web page's heading over it); default "Draft". An agent's tool approval says "Input". */
  label?: string;
  /** A stable name for this review (default: none, it is known by its order); see `AskOptions.id`. */
  id?: string;
}

/** A message that grows as text arrives (see `WorkflowContext.stream`). */
export interface StreamedText {
  /** Shows the text so far (the whole of it, not a delta), at the adapter's pace. */
  show(text: string): void;
  /** The text so far. */
  readonly text: string;
  /** Shows the whole text (`text`, or the last shown); resolves with the ids of the messages that show it. */
  finish(text?: string): Promise<string[]>;
}

export interface StepOptions {
  /** Retries when the step throws a retryable error; default from `tasks.stepRetries`. */
  retries?: number;
}

/**
 * What a workflow's `run` gets. Durability by replay: after an answer or a restart, `run`
 * starts again from the top, and every `step`, `ask` and `review` that already finished
 * returns its stored result at once. So code between steps must be deterministic: put
 * anything that reads the clock, random numbers or the network inside a `step`. A replay that
 * finds the code asking something else than the history holds (a changed workflow, code that
 * is not deterministic) ends the task with a `NonDeterminismError`.
 */
export interface WorkflowContext {
  readonly taskId: string;
  readonly sessionId: string;
  /** The user who started the task. */
  readonly user: string;
  readonly address: Address;
  /** The last `history.window` messages of the session, oldest first. */
  readonly history: readonly Message[];
  /** Aborted when the task is cancelled, times out, or the process shuts down. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /**
   * Runs `fn` once per task: its result is journaled under `id` (plus an occurrence
   * counter, so the same id may be used in a loop) and replayed afterwards.
   * A thrown error is retried with backoff unless it is a `NonRetriableError`.
   */
  step<T>(id: string, fn: (signal: AbortSignal) => Promise<T> | T, options?: StepOptions): Promise<T>;
  /** Reports progress (0–100) and the current step; shown by editing the status message. */
  progress(percent: number, step?: string): Promise<void>;
  /**
   * Asks the person a question and waits (parked, no worker held) for the answer. The answer is
   * journaled with a fingerprint of the question and its choices: a replay that asks another
   * question in its place fails the task instead of taking that answer.
   */
  ask(question: string, options?: AskOptions): Promise<string>;
  /** Asks the person to approve, reject or edit a draft, and waits for the verdict (journaled like `ask`'s answer, with the question and draft). */
  review(question: string, options: ReviewOptions): Promise<ReviewVerdict>;
  /**
   * A message that grows as text arrives (a streamed answer), edited at the adapter's rate and
   * continued in a next message when it outgrows one. Its messages are remembered under
   * `name` (plus an occurrence counter): a run replayed after a restart edits the same
   * messages again instead of posting new ones. Open it before the `step` that produces the
   * text, so a retried step shows into the same messages.
   */
  stream(name: string): StreamedText;
}

export interface WorkflowResult {
  text: string;
  links?: Link[];
  /**
   * The ids of messages that already show `text` (a streamed answer, see `ctx.stream`): the
   * result enters history without being posted again.
   */
  shownIn?: string[];
}

/** What started a task: the text of the message or the command's arguments. */
export interface WorkflowRequest {
  text: string;
  /** The command, when started by one (without `/`). */
  command?: string;
}

export interface Workflow<I = unknown> {
  name: string;
  /** One line for /help. */
  description?: string;
  /** Validates the input before a task is created; a failure is answered, not run. */
  input?: z.ZodType<I>;
  /** Turns the person's request into the input. Default: `{ text }`. */
  fromRequest?(request: WorkflowRequest): unknown;
  /** Per-workflow timeout in ms; default from `tasks.timeoutMinutes`. */
  timeoutMs?: number;
  run(ctx: WorkflowContext, input: I): Promise<WorkflowResult>;
}

/** Declares a workflow; the identity function, there for type inference. */
export function defineWorkflow<I>(workflow: Workflow<I>): Workflow<I> {
  return workflow;
}
