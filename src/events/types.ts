/**
 * The typed events of the feed: what happened in a session, in order, for every session on
 * every platform. Stored as FeedRecords (src/store/records.ts), numbered by the store.
 */
import type { Link, MessageRole, MessageSource, ProgressState } from "../model.ts";

/** A task's final status, as `end` reports it. */
export type FinalStatus = "completed" | "failed" | "cancelled";

/** The `data` of each event type. */
export interface FeedEventData {
  /** A task started running for the first time. */
  start: { workflow: string };
  /** A message entered the session's history. */
  message: { id: string; role: MessageRole; text: string; source: MessageSource; user?: string; links?: Link[] };
  /**
   * Where a task is: percent, step and state. Last-value: stored at most once per task per
   * interval (see EventFeed), always the last one before anything else happens to the task.
   */
  progress: { percent: number; step?: string; state: ProgressState };
  /** The task asks a question and waits; `expectsText` when the answer is typed, not picked. */
  question: { question: string; choices?: string[]; expectsText: boolean };
  /** The task asks for a review of `data` and waits. */
  review: { question: string; data?: string; /** What `data` is (absent: a draft). */ label?: string };
  /** A question or review was answered (once the answer is stored): by whom, and what. */
  answered: { kind: "ask"; by?: string; answer: string } | { kind: "review"; by?: string; approved: boolean; edited?: string; feedback?: string };
  /**
   * A reply or notice that is not part of the history (a command's answer, a hint, a refusal),
   * published by a channel that shows those (the web channel); `to`: the only person it is for.
   */
  reply: { messageId: string; kind: "reply" | "notice"; text: string; links?: Link[]; to?: string };
  /** The task's result (published once the task is stored as completed). */
  result: { text: string; links?: Link[] };
  /** Why the task failed (published once it is stored as failed). */
  error: { message: string };
  /** The task ended: always the task's last event. */
  end: { status: FinalStatus };
  /** The task was cancelled; `by` is the user who cancelled it, when known. */
  cancelled: { by?: string };
}

export type FeedEventType = keyof FeedEventData;

/** Event types about one task: they always carry `taskId`. */
export type TaskEventType = Exclude<FeedEventType, "message" | "reply">;

type EventOf<K extends FeedEventType> = {
  /** Strictly increasing across the whole store and across restarts; may have gaps. */
  seq: number;
  type: K;
  sessionId: string;
  /** Epoch ms. */
  at: number;
  data: FeedEventData[K];
} & (K extends TaskEventType ? { taskId: string } : { taskId?: string });

/** A stored event. Narrow on `type` to get its `data`. */
export type FeedEvent<K extends FeedEventType = FeedEventType> = K extends FeedEventType ? EventOf<K> : never;

/** An event to publish: no seq yet; `at` defaults to now. */
export type NewFeedEvent<K extends FeedEventType = FeedEventType> = K extends FeedEventType ? Omit<EventOf<K>, "seq" | "at"> & { at?: number } : never;

/** Which events a subscriber or reader wants; all conditions given must hold. */
export type { FeedFilter } from "../store/port.ts";

/** Receives events; may be async, but is never awaited: a slow or failing listener holds up nothing. */
export type FeedListener = (event: FeedEvent) => void | Promise<void>;

/** Ends a subscription; `ready` resolves once the replay of stored events is done (live from then on). */
export interface Unsubscribe {
  (): void;
  readonly ready: Promise<void>;
  /**
   * Adds a session to a subscription that follows given sessions (`sessionId`/`sessionIds`):
   * its events from now on are delivered too (a session opened after the subscription began).
   */
  follow(sessionId: string): void;
}
