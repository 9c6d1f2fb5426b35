/**
 * The records the store keeps for the task runner and the scheduler. They live beside the
 * Store port (not in tasks/ or scheduler/) so that the store depends on nothing above it.
 */
import type { Address, Link } from "../model.ts";

/** `queued → running → waiting → running → completed | failed | cancelled` */
export type TaskStatus = "queued" | "running" | "waiting" | "completed" | "failed" | "cancelled";

export const ACTIVE_STATUSES: readonly TaskStatus[] = ["queued", "running", "waiting"];
export const FINISHED_STATUSES: readonly TaskStatus[] = ["completed", "failed", "cancelled"];

export function isFinished(status: TaskStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/** A question or review the task is parked on. */
export interface PendingWait {
  kind: "ask" | "review";
  /** Journal key the answer is stored under (`ask#0`, `review#1`, `ask:scope#0` with an `id`, ...). */
  key: string;
  /** The `id` option the workflow gave the ask or review, if any. */
  id?: string;
  /** Its place among the run's calls addressed by order (see `JournalCall.seq`); absent on waits stored before chatflow recorded it. */
  seq?: number;
  /** Short random token carried in action ids; a stale button can never answer a newer wait. */
  token: string;
  question: string;
  choices?: string[];
  /** The draft under review. */
  data?: string;
  /** What the draft is, for people (default "Draft"). */
  label?: string;
  /** Review sub-state: waiting for a verdict, for the corrected text, or for feedback. */
  phase?: "verdict" | "edit-text" | "feedback";
  /** The corrected text, kept while the feedback is asked for. */
  edited?: string;
  /** Whether the verdict collected so far approves. */
  approved?: boolean;
  askedAt: number;
}

export interface TaskLease {
  /** Instance id of the process that runs the task. */
  owner: string;
  /** Epoch ms after which another process may take the task over. */
  until: number;
}

export interface TaskResult {
  text: string;
  links?: Link[];
}

export interface Task {
  id: string;
  /** Revision, bumped by every update; conditional updates compare it. */
  rev: number;
  sessionId: string;
  address: Address;
  /** The user who started the task. */
  owner: string;
  workflow: string;
  input: unknown;
  /** `scheduled` for tasks started by a schedule: their messages enter history as such. */
  source?: "scheduled";
  status: TaskStatus;
  percent: number;
  step?: string;
  waiting?: PendingWait;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** How many times the task was (re)started by the runner. */
  attempts: number;
  /** Running time spent so far, for the per-task timeout. */
  elapsedMs: number;
  lease?: TaskLease;
  cancelRequested?: boolean;
  /** The inbound event that asked for the cancel (a `/cancel` re-delivered after a crash must not cancel the next task). */
  cancelEvent?: string;
  /**
   * An accepted answer not yet journaled: set atomically with `waiting → queued`, journaled
   * when the task runs. `call` says which question it answers (absent when an older version accepted it).
   */
  answer?: {
    key: string;
    value: unknown;
    call?: JournalCall;
    /** The answer as the person's message for the history (a pressed button, an API call), entered before the task goes on. */
    said?: { text: string; by?: string; eventKey: string };
  };
  /** The inbound event that gave the last accepted answer, so a re-delivered event is not taken as a new request. */
  lastAnswerEvent?: string;
  result?: TaskResult;
  error?: string;
}

/** What a journal entry holds the outcome of: a step, a question, a review, a streamed message. */
export type JournalCallKind = "step" | "ask" | "review" | "stream";

/**
 * What a journaled call was, so that a replay can tell whether the code still asks the same
 * thing at the same place (src/tasks/replay-check.ts).
 */
export interface JournalCall {
  kind: JournalCallKind;
  /** The step's id, the stream's name, or the `id` option of an ask or review. */
  id?: string;
  /** A hash of what was asked (the question and its choices, the review's question and draft, the step id): 16 hex digits of sha256. */
  fingerprint: string;
  /** The question, shortened, for the message that names a mismatch. */
  label?: string;
  /** Its place among the run's calls addressed by order (every call but an ask or review with an `id`), from 0. */
  seq?: number;
}

/**
 * A journaled step result or answer: stored before the workflow goes on. Entries written
 * before chatflow recorded what the call was carry only `value` and `at`; they replay unchecked.
 */
export interface JournalEntry extends Partial<JournalCall> {
  value: unknown;
  at: number;
}

/** A platform side effect already done for a task: the posted message's id. */
export interface OutboxRecord {
  /** Empty while the post is in flight (`pending`). */
  messageId: string;
  /** Written before posting: after a crash, the post may or may not have happened. */
  pending?: boolean;
  platform: string;
  at: number;
}

/** What to do with slots missed while the bot was down, applied at start-up. */
export type MissedPolicy = "skip" | "latest" | "all";

/** A stored schedule: on each cron slot, post `text`, post what the model writes from `prompt`, or run `workflow` with `input`. */
export interface Schedule {
  id: string;
  /** Revision, bumped by every update; slot claims are conditional on it. */
  rev: number;
  /** Cron expression (5 fields, or 6 with seconds first), as croner reads it. */
  cron: string;
  /** IANA timezone the expression is read in. */
  timezone: string;
  /** Where the post goes; `user` is who made the schedule (or `scheduler` for config ones). */
  target: Address;
  text?: string;
  /** An instruction the assistant writes each slot's message from. */
  prompt?: string;
  /** With `prompt`: the model also gets the chat's recent history. */
  withHistory?: boolean;
  /** The message written for `pendingSlot`, kept until it is posted (a restart posts this text, not a new one). */
  pendingText?: string;
  workflow?: string;
  input?: unknown;
  enabled: boolean;
  /** Why it was paused, when it was paused by the scheduler or a person. */
  pausedReason?: string;
  missedPolicy: MissedPolicy;
  /** The latest slot claimed (epoch ms): a slot fires only if it is later than this. */
  lastSlot?: number;
  /** A claimed slot not yet delivered (a restart delivers it). */
  pendingSlot?: number;
  /** With a shared store: the process delivering `pendingSlot`, and until when (epoch ms) it may; after that another takes it over. */
  pendingOwner?: string;
  pendingUntil?: number;
  /** Consecutive failures only a person can fix: a target that is gone, a model that refuses the key. */
  failures: number;
  lastError?: string;
  lastFiredAt?: number;
  /** `config`: from the configuration file (kept in sync with it); `chat`: made with /schedule. */
  origin: "config" | "chat";
  createdAt: number;
  updatedAt: number;
}

/**
 * One stored event of the feed (see src/events/): what happened in a session, in order.
 * The store keeps it opaque (`type` and `data` are the feed's business); `seq` is assigned
 * by the store, strictly increasing across the whole store and across restarts, never reused,
 * not necessarily contiguous (a crash or a failed write may leave gaps).
 */
export interface FeedRecord {
  seq: number;
  type: string;
  sessionId: string;
  taskId?: string;
  /** Epoch ms. */
  at: number;
  data: unknown;
}

/** A feed record before the store numbered it. */
export type NewFeedRecord = Omit<FeedRecord, "seq">;
