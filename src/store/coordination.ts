/**
 * What a store shared by several chatflow processes offers the engine's multi-instance
 * runner, beyond the Store port: tasks claimed with a lease on the store's clock, so that
 * each task runs in one process at a time and a process that died loses its tasks to the
 * others once their leases expire. Implemented by the PostgreSQL store.
 */
import type { Store } from "./port.ts";
import type { Task } from "./records.ts";

export interface TaskClaims {
  /**
   * Takes up to `limit` tasks that may run now, oldest `createdAt` first, atomically across
   * processes: a `queued` task whose session has no other task `running` or `waiting`, or a
   * `running` task whose lease expired on the store's clock (or that has none) and whose
   * session has no other task running under a live lease; at most one per session. Each is
   * set `running` with the lease `{ owner, until: now + leaseMs }` (store clock), `attempts`
   * + 1, `startedAt` when unset, `rev` + 1, and returned. Two claimers never get the same
   * task, nor two tasks of one session.
   */
  claimTasks(owner: string, leaseMs: number, limit: number): Promise<Task[]>;
  /**
   * Extends the lease of a task to now + `leaseMs` (store clock) when it is still held by
   * `owner` and not expired; resolves whether it was. Does not bump `rev` (a runner's
   * conditional updates stay valid).
   */
  renewLease(taskId: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Epoch ms on the store's clock (the one leases are measured on). */
  dbNow(): Promise<number>;
}

/** Whether a store offers task claims (see TaskClaims). */
/**
 * Leads of connections only one process may hold (Telegram's long polling, the Discord
 * gateway), in a store several processes share: a lease per name on the store's clock.
 */
export interface Leadership {
  /** Takes the lead of `name` for `owner`, or keeps it, until the store's now + `leaseMs`; true while `owner` holds it. */
  lead(name: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Gives the lead up at once (when `owner` holds it), so another process takes it without waiting for the lease. */
  resign(name: string, owner: string): Promise<void>;
}

export function hasLeadership<S extends object>(store: S): store is S & Leadership {
  return typeof (store as Partial<Leadership>).lead === "function" && typeof (store as Partial<Leadership>).resign === "function";
}

export function hasTaskClaims<S extends Store>(store: S): store is S & TaskClaims {
  const s = store as Partial<TaskClaims>;
  return typeof s.claimTasks === "function" && typeof s.renewLease === "function" && typeof s.dbNow === "function";
}

/** Whether `task`'s lease is held by `owner` and not expired at `now` (the `leaseOwner` condition of `Store.updateTask`). */
export function leaseHeld(task: Pick<Task, "lease">, owner: string, now: number): boolean {
  return task.lease !== undefined && task.lease.owner === owner && task.lease.until > now;
}

/** The sentence of a `createSession` refused (code `conflict`) because its key already has an open session: every store says the same. */
export function openSessionConflict(key: string, openId: string): string {
  return `The key ${JSON.stringify(key)} already has an open session (${openId}): use that one, or close it before opening another.`;
}
