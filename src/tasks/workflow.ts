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
}

export interface ReviewOptions {
  /** The draft to approve, reject or edit. */
  data: string;
}

export interface StepOptions {
  /** Retries when the step throws a retryable error; default from `tasks.stepRetries`. */
  retries?: number;
}

/**
 * What a workflow's `run` gets. Durability by replay: after an answer or a restart, `run`
 * starts again from the top, and every `step`, `ask` and `review` that already finished
 * returns its stored result at once. So code between steps must be deterministic: put
 * anything that reads the clock, random numbers or the network inside a `step`.
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
  /** Asks the person a question and waits (parked, no worker held) for the answer. */
  ask(question: string, options?: AskOptions): Promise<string>;
  /** Asks the person to approve, reject or edit a draft, and waits for the verdict. */
  review(question: string, options: ReviewOptions): Promise<ReviewVerdict>;
}

export interface WorkflowResult {
  text: string;
  links?: Link[];
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
