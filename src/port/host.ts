/**
 * What an adapter and the HTTP API may ask of the engine: the one door from the edges into
 * it. The engine implements it (src/app.ts); the edges see nothing else of it: no store, no
 * runner, nothing they could write to behind the engine's rules.
 */
import type { Limiter, LimiterOptions } from "../store/limits.ts";

export type { Limiter, LimiterOptions };
import type { FeedEvent, FeedFilter, FeedListener, NewFeedEvent, Unsubscribe } from "../events/types.ts";
import type { SubscribeOptions } from "../events/feed.ts";
import type { Address, InboundEvent, Message, Session } from "../model.ts";
import type { Page, PageRequest, SessionFilter, TaskFilter } from "../store/port.ts";
import type { MissedPolicy, PendingWait, Schedule, Task, TaskStatus } from "../store/records.ts";
import type { ReviewVerdict, WorkflowRequest } from "../tasks/workflow.ts";

export type { FeedEvent, FeedFilter, FeedListener, NewFeedEvent, SubscribeOptions, Unsubscribe };
export type { Page, PageRequest, SessionFilter, TaskFilter, PendingWait, Schedule, Task, TaskStatus, ReviewVerdict };

/**
 * What handling an inbound event did, for a caller that answers for it (the HTTP API):
 * - `task`: a task was submitted for it (or was already, on a re-delivery); `taskId` is its id;
 * - `duplicate`: the event was handled before (or is being handled now), and nothing was done;
 * - `limited`: it would have started a task, but its sender is at their task limit (they were told; `message` says so);
 * - `failed`: handling it failed (logged, and the sender was told); `error` is why, e.g. a store that can't write;
 * - `handled`: anything else (an answer to a waiting task, a command, a reply, a refusal); `replies`: what the bot answered, if anything.
 */
export type HandleOutcome =
  | { kind: "task"; taskId: string }
  | { kind: "duplicate" }
  | { kind: "limited"; retryAfterMs: number; message: string }
  | { kind: "failed"; error: unknown }
  | { kind: "handled"; replies?: string[] };

/** What a task is started from: the workflow's input as it is, or a person's request it makes its input from. */
export type StartInput = { input: unknown } | { request: WorkflowRequest };

export type StartTaskRequest = StartInput & {
  workflow: string;
  /** Who starts it (the task's owner) and where its messages go. */
  address: Address;
  /** The session it runs in; absent: the open session of `address`, made once the start is accepted. */
  sessionId?: string;
  /**
   * What makes this start unique (an inbound event's key, a schedule's slot, a scoped
   * Idempotency-Key): the task's id derives from it, so the same start twice is one task.
   * Without it, a fresh id.
   */
  key?: string;
  /** `scheduled` when a schedule starts it. */
  source?: "scheduled";
  /** Not counted against the owner's task limit: the operator's own (a schedule of the config file). */
  unmetered?: boolean;
  /**
   * A session already running a task: `policy` applies `tasks.busy` (`reject` refuses with a
   * SessionBusyError, code `conflict`); `queue` always queues behind it (schedules). Default `policy`.
   */
  whenBusy?: "policy" | "queue";
};

export interface StartedTask {
  task: Task;
  /** True when the key had already started this task (a retry or a re-delivery): nothing new was done. */
  existed: boolean;
  /** True when it waits behind the session's current task. */
  queued: boolean;
  /** This request's input, as the workflow's schema made it (compare it with `task.input` to tell a retry from another request). */
  input: unknown;
}

/** What a new schedule needs; the rest gets defaults. */
export interface ScheduleSpec {
  id?: string;
  cron: string;
  timezone?: string;
  target: Address;
  text?: string;
  prompt?: string;
  withHistory?: boolean;
  workflow?: string;
  input?: unknown;
  missedPolicy?: MissedPolicy;
  enabled?: boolean;
  origin: Schedule["origin"];
}

export interface SchedulerState {
  running: boolean;
  schedules: { id: string; enabled: boolean; cron: string; timezone: string; next: string | null; lastSlot: string | null; pausedReason?: string }[];
}

/** The settings the edges need to answer people (the rest of the configuration stays inside). */
export interface HostSettings {
  /** Longest accepted message, in characters (`history.maxMessageLength`). */
  maxMessageLength: number;
  /** Whether schedules run (`scheduler.enabled`). */
  schedulerEnabled: boolean;
  /** Users, as `platform:user`, who may act on anyone's task. */
  reviewers: readonly string[];
}

/** Counters for monitoring, by label set. */
export interface HostCounter {
  labels: Record<string, string>;
  value: number;
}

export interface HostStats {
  adapterCalls: HostCounter[];
  adapterErrors: HostCounter[];
  rateLimited: HostCounter[];
  duplicateEvents: HostCounter[];
}

/** What /healthz reports of the engine. */
export interface HostHealth {
  /** Whether the store answers and its last write went through; `error` says what failed. */
  store: { ok: boolean; error?: string };
  scheduler: SchedulerState & { enabled: boolean };
  /** Each adapter's connection, by platform. */
  adapters: Record<string, { connected: boolean }>;
  /** Tasks running now. */
  running: number;
  /**
   * This process: its id (CHATFLOW_INSTANCE_ID or random), its store driver, whether the store
   * is shared with other processes, and the connections it leads (those only one process may
   * hold, such as Telegram's long polling).
   */
  instance: { id: string; store: string; shared: boolean; leads: string[] };
}

export interface HostSessions {
  /** The open session of an address (created when there is none). */
  open(address: Address): Promise<Session>;
  get(id: string): Promise<Session | undefined>;
  /** The open session of an address, if there is one (none is created). */
  find(address: Address): Promise<Session | undefined>;
  /** Newest activity first. */
  list(filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>>;
  /** Renames a session (`topic`) or closes it. */
  update(id: string, change: { topic?: string; closed?: boolean }): Promise<Session | undefined>;
  /** The last `limit` messages, oldest first. */
  messages(sessionId: string, limit: number): Promise<Message[]>;
  /** Calls `listener` with each session opened from now on (synchronously, before any of its events); returns the function that stops it. */
  onOpened(listener: (session: Session) => void): () => void;
}

export interface HostTasks {
  /** The one way to start a task (validation, derived id, busy policy, the owner's limit). */
  start(request: StartTaskRequest): Promise<StartedTask>;
  get(id: string): Promise<Task | undefined>;
  /** Newest first. */
  list(filter?: TaskFilter, page?: PageRequest): Promise<Page<Task>>;
  /** The task holding a session (running or waiting), if any. */
  active(sessionId: string): Promise<Task | undefined>;
  /** Whether the person at `address` may answer, review or cancel the task. */
  mayAct(task: Task, address: Address): boolean;
  /**
   * Gives the task's pending wait its answer (a choice's label or free text for a question, a
   * verdict for a review), once: resolves the task as it then is, or undefined when that wait
   * was already answered. `eventKey` identifies the answer (for de-duplication), `by` who gave it.
   */
  answer(task: Task, wait: PendingWait, value: string | ReviewVerdict, eventKey: string, by: string): Promise<Task | undefined>;
  /** Cancels (or asks to cancel at the next step); resolves the task as it then is. */
  cancel(taskId: string, by: string): Promise<Task | undefined>;
  /** The names of the workflows a task may run. */
  workflows(): string[];
  /** Sets the task limit of one platform's users (the web adapter's `rateLimit.tasksPerMinute`). */
  limitPlatform(platform: string, limit: { perMinute: number; setting: string }): void;
}

export interface HostSchedules {
  list(): Promise<Schedule[]>;
  /** Validates and stores a schedule; a refusal is a ChatflowError with code `validation`. */
  add(spec: ScheduleSpec): Promise<Schedule>;
  pause(id: string, reason?: string): Promise<Schedule | undefined>;
  resume(id: string): Promise<Schedule | undefined>;
  remove(id: string): Promise<boolean>;
  /** The next fire from now; null when it never fires. */
  nextFire(schedule: Pick<Schedule, "cron" | "timezone">): Date | null;
}

export interface HostEvents {
  /** Replays events after `options.after`, then follows live ones, in seq order. */
  subscribe(filter: FeedFilter, listener: FeedListener, options?: SubscribeOptions): Unsubscribe;
  /** Publishes an event of the edge's own (a reply shown in a web session). */
  publish(event: NewFeedEvent): Promise<void>;
}

/**
 * Remembered keys with an expiry (an HTTP Idempotency-Key): `claim` resolves true the first
 * time, false while the key is remembered; `seen` only looks.
 */
export interface HostKeys {
  claim(key: string, ttlMs: number): Promise<boolean>;
  seen(key: string): Promise<boolean>;
  /**
   * A rate limit per key (rate-limiter-flexible): counted in the store where several
   * processes share it, so it holds across instances; else in this process's memory.
   */
  limiter(options: LimiterOptions): Limiter;
}

/** The engine as the edges see it. */
export interface Host {
  readonly settings: HostSettings;
  /** chatflow's version, for /healthz and documents. */
  readonly version: string;
  /** Hands an inbound event to the engine; says whether it started a task. */
  handle(event: InboundEvent): Promise<HandleOutcome>;
  /** The workflow plain messages go to on a platform, if any. */
  messageWorkflow(platform: string): string | undefined;
  readonly sessions: HostSessions;
  readonly tasks: HostTasks;
  readonly schedules: HostSchedules;
  readonly events: HostEvents;
  readonly keys: HostKeys;
  health(): Promise<HostHealth>;
  stats(): HostStats;
}
