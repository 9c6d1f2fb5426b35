import { ChatflowError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Message } from "../model.ts";
import type { Store } from "../store/port.ts";
import type { JournalCall, JournalEntry, PendingWait, Task } from "../store/records.ts";
import { askCall, reviewCall, stepCall, streamCall } from "./journal-call.ts";
import type { ReplayCheck } from "./replay-check.ts";
import { runWithRetries } from "./step-retry.ts";
import { LeaseLostSignal } from "./lease.ts";
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
  /** Compares each call with what the journal recorded for it (see replay-check.ts). */
  replay: ReplayCheck;
  store: Store;
  history: Message[];
  signal: AbortSignal;
  log: Logger;
  retries: number;
  retryBaseMs: number;
  /** When the task times out (epoch ms): a step is not kept waiting for a rate limit past it. */
  deadline?: number;
  /** Shows progress; never throws. */
  progress(percent: number, step?: string): Promise<void>;
  /** Parks the task on `wait`: stores it and posts the question. */
  park(wait: Omit<PendingWait, "token" | "askedAt">): Promise<void>;
  /** A message that grows as text arrives, remembered under `key`. */
  openStream(key: string): StreamedText;
  /**
   * With a shared store: resolves while this process still holds the task's lease, else
   * rejects (and aborts the run). Called before a step runs and before its result is
   * journaled, so a process that lost its lease (paused, cut off) starts no side effect and
   * records nothing the process that took the task over may be doing.
   */
  fence?(): Promise<void>;
  /** With a shared store: this process, so the journal is written only while it holds the task's lease. */
  leaseOwner?: string;
}

/** Builds the `ctx` of one run of a workflow. */
export function createContext(deps: ContextDeps): WorkflowContext {
  const { task, journal, replay, store, signal } = deps;
  const occurrences = new Map<string, number>();
  /** `name#n`: the n-th use of a name in this run; stable across replays of deterministic code. */
  const nextKey = (name: string): string => {
    const n = occurrences.get(name) ?? 0;
    occurrences.set(name, n + 1);
    return `${name}#${n}`;
  };
  /** The key of an ask or review: by its `id` when the workflow gave one, else by its order among the others. */
  const waitKey = (kind: "ask" | "review", id: string | undefined): string => {
    if (id === undefined) return nextKey(kind);
    if (typeof id !== "string" || id === "") throw new ChatflowError("workflow", `Expected the \`id\` of ctx.${kind} to be a non-empty string, got ${JSON.stringify(id)}.`);
    return nextKey(`${kind}:${id}`);
  };
  const throwIfAborted = (): void => {
    if (signal.aborted) throw signal.reason;
  };
  const record = async (key: string, value: unknown, call: JournalCall): Promise<void> => {
    const entry: JournalEntry = { ...call, value: value === undefined ? null : value, at: Date.now() };
    try {
      await store.appendJournal(task.id, key, entry, deps.leaseOwner !== undefined ? { leaseOwner: deps.leaseOwner } : undefined);
    } catch (error) {
      // Another process took the task over while this step ran: it stops here, recording nothing.
      if (deps.leaseOwner !== undefined && error instanceof ChatflowError && error.code === "conflict") throw new LeaseLostSignal(task.id);
      throw error;
    }
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
      const { entry, call } = replay.replay({ key, call: stepCall(id), byId: false });
      if (entry) return entry.value as T;
      throwIfAborted();
      await deps.fence?.();
      const value = await runWithRetries(() => fn(signal), {
        retries: options?.retries ?? deps.retries,
        retryBaseMs: deps.retryBaseMs,
        signal,
        ...(deps.deadline !== undefined ? { deadline: deps.deadline } : {}),
        onFailedAttempt: (error, attempt, retriesLeft) => {
          // A step unwinding because the task was cancelled, timed out or the bot is stopping did not fail.
          if (signal.aborted) return;
          deps.log.warn({ taskId: task.id, step: id, attempt, retriesLeft, err: error }, "step failed");
        },
      });
      throwIfAborted();
      await deps.fence?.();
      await record(key, value, call);
      return value;
    },

    async progress(percent: number, step?: string): Promise<void> {
      throwIfAborted();
      await deps.progress(percent, step);
    },

    async ask(question: string, options?: AskOptions): Promise<string> {
      const key = waitKey("ask", options?.id);
      const choices = options?.choices?.filter((choice) => choice.trim() !== "");
      const offered = choices && choices.length > 0 ? choices : undefined;
      const { entry, call } = replay.replay({ key, call: askCall(question, offered, options?.id), byId: options?.id !== undefined });
      if (entry) return entry.value as string;
      throwIfAborted();
      await deps.park({ kind: "ask", key, question, ...(offered ? { choices: offered } : {}), ...waitIdentity(call) });
      throw new ParkSignal();
    },

    stream(name: string): StreamedText {
      const key = nextKey(`stream:${name}`);
      const { entry, call } = replay.replay({ key, call: streamCall(name), byId: false });
      // Recorded only so a replay can check it; the stream's messages are found through the outbox, so a lost write costs nothing.
      if (!entry) record(key, null, call).catch((error: unknown) => deps.log.warn({ taskId: task.id, stream: name, err: error }, "stream not journaled"));
      return deps.openStream(key);
    },

    async review(question: string, options: ReviewOptions): Promise<ReviewVerdict> {
      const key = waitKey("review", options.id);
      const { entry, call } = replay.replay({ key, call: reviewCall(question, options.data, options.id), byId: options.id !== undefined });
      if (entry) return entry.value as ReviewVerdict;
      throwIfAborted();
      await deps.park({ kind: "review", key, question, data: options.data, ...(options.label ? { label: options.label } : {}), phase: "verdict", ...waitIdentity(call) });
      throw new ParkSignal();
    },
  };
}

/** What a wait keeps of its call: its `id` and position (the fingerprint is rebuilt from its question, see `waitCall`). */
function waitIdentity(call: JournalCall): Pick<PendingWait, "id" | "seq"> {
  return { ...(call.id !== undefined ? { id: call.id } : {}), ...(call.seq !== undefined ? { seq: call.seq } : {}) };
}
