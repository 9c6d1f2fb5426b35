import type { Logger } from "../logger.ts";
import type { TaskClaims } from "../store/coordination.ts";
import type { Store } from "../store/port.ts";

/** A run stopped because another process took its task over: it writes and posts nothing more. */
export class LeaseLostSignal extends Error {
  constructor(taskId: string) {
    super(`The lease on task ${taskId} was lost: another process runs it now.`);
    this.name = "LeaseLostSignal";
  }
}

export interface LeaseOptions {
  store: Store;
  /** Present with a shared store: the lease is renewed (and checked) on the store's clock. */
  claims?: TaskClaims;
  taskId: string;
  owner: string;
  leaseMs: number;
  /** Aborts the run (with a LeaseLostSignal) when the lease is lost. */
  abort: (reason: LeaseLostSignal) => void;
  log: Logger;
}

/**
 * A running task's lease, renewed every third of its length. With a store one process holds
 * (lowdb), renewing is a plain write. With a shared store, renewing succeeds only while this
 * process still holds the lease; when it fails, the run is aborted, and `fence()` tells the
 * run, before each side effect, whether it may still act: a process that was paused or cut
 * off past its lease (its renewals late) checks with the store first and stops.
 */
export class TaskLease {
  readonly #o: LeaseOptions;
  readonly #timer: NodeJS.Timeout;
  /** Local time until which the lease surely holds: the start of the last successful renewal + leaseMs. */
  #until: number;
  #lost = false;

  constructor(options: LeaseOptions) {
    this.#o = options;
    this.#until = Date.now() + options.leaseMs;
    this.#timer = setInterval(() => void this.renew(), Math.max(50, options.leaseMs / 3));
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Renews now; false when the lease was lost. */
  async renew(): Promise<boolean> {
    if (this.#lost) return false;
    const { store, claims, taskId, owner, leaseMs } = this.#o;
    const asked = Date.now();
    try {
      if (!claims) {
        await store.updateTask(taskId, { lease: { owner, until: asked + leaseMs } });
        return true;
      }
      if (await claims.renewLease(taskId, owner, leaseMs)) {
        this.#until = asked + leaseMs;
        return true;
      }
    } catch (error) {
      // The store can't be reached: the lease may still hold; the fence decides once it is near its end.
      this.#o.log.warn({ err: error, taskId }, "lease not renewed");
      return Date.now() < this.#until;
    }
    this.#lost = true;
    this.#o.abort(new LeaseLostSignal(taskId));
    return false;
  }

  /** Resolves while the lease holds; rejects with LeaseLostSignal once it is lost. */
  async fence(): Promise<void> {
    if (!this.#o.claims) return;
    // Renewals on time leave at least two thirds of the lease; less means one is late (a pause, a stall): ask the store.
    if (!this.#lost && Date.now() < this.#until - (this.#o.leaseMs * 2) / 3 + 50) return;
    if (!(await this.renew()) || this.#lost) throw new LeaseLostSignal(this.#o.taskId);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
