import type { Delivery } from "../delivery.ts";
import type { EventFeed } from "../events/feed.ts";
import type { Logger } from "../logger.ts";
import type { Address, SessionState } from "../model.ts";
import type { Store } from "../store/port.ts";
import type { Workflow } from "./workflow.ts";
import type { TaskQuota } from "./quota.ts";
import type { ReportError } from "../error-hook.ts";

export interface TaskRunnerOptions {
  store: Store;
  delivery: Delivery;
  workflows: ReadonlyMap<string, Workflow<any>>;
  log: Logger;
  /** Tasks running at once. */
  concurrency: number;
  /** Default running-time limit of a task, in ms. */
  timeoutMs: number;
  /** Lease length, in ms. */
  leaseMs: number;
  /** Default retries of a failing step. */
  stepRetries: number;
  /** First retry delay, in ms. */
  retryBaseMs: number;
  /** Messages of history a workflow sees. */
  historyWindow: number;
  /** Told whenever a session's state follows from its tasks. */
  onSessionState?: (sessionId: string, state: SessionState) => void;
  /** Where the runner publishes what tasks do (start, progress, questions, results, end), each once it is stored. */
  events?: EventFeed;
  /** Tasks a person may start per minute; every new task takes a point from its owner. */
  quota?: TaskQuota;
  /** Where failed tasks are reported besides the log (the bot's `onError`). */
  report?: ReportError;
  /** With a shared store: how often to look for tasks nobody signalled (a dead process's), in ms. Default: a fifth of the lease, at most 5 s. */
  sweepMs?: number;
  /** Identifies this process in task leases; default a random id. */
  instanceId?: string;
}

export interface SubmitRequest {
  /** Deterministic id (derived from the inbound event) so a re-delivered event creates no second task. */
  id?: string;
  sessionId: string;
  address: Address;
  workflow: string;
  input: unknown;
  /** `scheduled` when a schedule starts the task. */
  source?: "scheduled";
  /** Not counted against the owner's quota: the operator's own (a schedule of the config file). */
  unmetered?: boolean;
}
