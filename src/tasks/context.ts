import pRetry from "p-retry";
import { NonRetriableError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Message } from "../model.ts";
import type { Store } from "../store/port.ts";
import type { JournalEntry, PendingWait, Task } from "../store/records.ts";
import type { AskOptions, ReviewOptions, ReviewVerdict, StepOptions, StreamedText, WorkflowContext } from "./workflow.ts";

/**
 * Thrown by `ask`/`review` when the answer isn't there yet: the run unwinds and the task
 * parks without holding a worker. Workflows must let it through (don't swallow errors
 * around `ask`, `review` or `step` in a catch-all).
 */
export class ParkSignal extends Error {
  constructor() {
    super("The task is waiting for an answer.");
    this.name = "ParkSignal";
  }
}

export interface ContextDeps {
  task: Task;
  journal: Map<string, JournalEntry>;
  store: Store;
  history: Message[];
  signal: AbortSignal;
  log: Logger;
  retries: number;
  retryBaseMs: number;
  /** Shows progress; never throws. */
  progress(percent: number, step?: string): Promise<void>;
  /** Parks the task on `wait`: stores it and posts the question. */
  park(wait: Omit<PendingWait, "token" | "askedAt">): Promise<void>;
  /** A message that grows as text arrives, remembered under `key`. */
  openStream(key: string): StreamedText;
}

/** Builds the `ctx` of one run of a workflow. */
export function createContext(deps: ContextDeps): WorkflowContext {
  const { task, journal, store, signal } = deps;
  const occurrences = new Map<string, number>();
  /** `name#n`: the n-th use of a name in this run; stable across replays of deterministic code. */
  const nextKey = (name: string): string => {
    const n = occurrences.get(name) ?? 0;
    occurrences.set(name, n + 1);
    return `${name}#${n}`;
  };
  const throwIfAborted = (): void => {
    if (signal.aborted) throw signal.reason;
  };
  const record = async (key: string, value: unknown): Promise<void> => {
    const entry: JournalEntry = { value: value === undefined ? null : value, at: Date.now() };
    await store.appendJournal(task.id, key, entry);
    journal.set(key, entry);
  };

  return {
    taskId: task.id,
    sessionId: task.sessionId,
    user: task.owner,
    address: task.address,
    history: deps.history,
    signal,
    log: deps.log,

    async step<T>(id: string, fn: (signal: AbortSignal) => Promise<T> | T, options?: StepOptions): Promise<T> {
      const key = nextKey(`step:${id}`);
      const hit = journal.get(key);
      if (hit) return hit.value as T;
      throwIfAborted();
      const value = await pRetry(
        async () => {
          throwIfAborted();
          return fn(signal);
        },
        {
          retries: options?.retries ?? deps.retries,
          minTimeout: deps.retryBaseMs,
          factor: 2,
          signal,
          shouldRetry: ({ error }) => !(error instanceof NonRetriableError) && !signal.aborted,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            deps.log.warn({ taskId: task.id, step: id, attempt: attemptNumber, retriesLeft, err: error }, "step failed");
          },
        },
      );
      throwIfAborted();
      await record(key, value);
      return value;
    },

    async progress(percent: number, step?: string): Promise<void> {
      throwIfAborted();
      await deps.progress(percent, step);
    },

    async ask(question: string, options?: AskOptions): Promise<string> {
      const key = nextKey("ask");
      const hit = journal.get(key);
      if (hit) return hit.value as string;
      throwIfAborted();
      const choices = options?.choices?.filter((choice) => choice.trim() !== "");
      await deps.park({ kind: "ask", key, question, ...(choices && choices.length > 0 ? { choices } : {}) });
      throw new ParkSignal();
    },

    stream(name: string): StreamedText {
      return deps.openStream(nextKey(`stream:${name}`));
    },

    async review(question: string, options: ReviewOptions): Promise<ReviewVerdict> {
      const key = nextKey("review");
      const hit = journal.get(key);
      if (hit) return hit.value as ReviewVerdict;
      throwIfAborted();
      await deps.park({ kind: "review", key, question, data: options.data, phase: "verdict" });
      throw new ParkSignal();
    },
  };
}
