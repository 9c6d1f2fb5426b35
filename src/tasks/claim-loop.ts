import type { Logger } from "../logger.ts";
import type { TaskClaims } from "../store/coordination.ts";
import type { Store } from "../store/port.ts";
import { ACTIVE_STATUSES, type Task } from "../store/records.ts";
import { hasSignals, type StoreSignals } from "../store/signals.ts";

export interface ClaimLoopOptions {
  claims: TaskClaims;
  /** This process, as lease owner. */
  owner: string;
  leaseMs: number;
  /** How many more tasks this process may run now. */
  free: () => number;
  /** Runs a claimed task (already `running` under this process's lease). */
  run: (task: Task) => void;
  /** How often to look for work nobody signalled: tasks of a process that died (lease expired). */
  sweepMs: number;
  log: Logger;
}

/**
 * Where a process with a shared store (PostgreSQL) gets its work: from the database, as many
 * tasks as it has free slots, whenever something may have changed (a task created or answered
 * here, a `work` signal from another process, a task ending here) and on a sweep interval, so a
 * dead process's tasks are taken over within its lease plus one sweep.
 */
export class ClaimLoop {
  readonly #o: ClaimLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  /** A claim is in flight; `#again` asks for another round once it is done. */
  #busy: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(options: ClaimLoopOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.poke(), this.#o.sweepMs);
    this.#timer.unref();
    this.poke();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /** Looks for work now (coalesced: one claim at a time, and one more after it when poked meanwhile). */
  poke(): void {
    if (this.#stopped) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = this.#claimRounds().finally(() => (this.#busy = undefined));
  }

  /** Resolves when no claim is in flight. */
  async settled(): Promise<void> {
    while (this.#busy) await this.#busy;
  }

  async #claimRounds(): Promise<void> {
    do {
      this.#again = false;
      for (;;) {
        const free = this.#o.free();
        if (free <= 0 || this.#stopped) break;
        let tasks: Task[];
        try {
          tasks = await this.#o.claims.claimTasks(this.#o.owner, this.#o.leaseMs, free);
        } catch (error) {
          // The store is unreachable: the next sweep tries again.
          this.#o.log.warn({ err: error }, "could not claim tasks; trying again at the next sweep");
          return;
        }
        // Handed over even when stopping: the runner gives back what it won't run.
        for (const task of tasks) this.#o.run(task);
        if (tasks.length < free) break;
      }
    } while (this.#again && !this.#stopped);
  }
}

export interface SharedWorkOptions extends Omit<ClaimLoopOptions, "claims"> {
  store: Store & TaskClaims;
}

/**
 * A runner's side of a store several processes share: where its tasks come from (the claim
 * loop), how it wakes the others (a `work` signal when a task may run) and hears them (their
 * `work` and `cancel` signals).
 */
export class SharedWork {
  readonly claims: TaskClaims;
  readonly signals: StoreSignals | undefined;
  readonly #store: Store;
  readonly #loop: ClaimLoop;
  #unlisten: (() => void) | undefined;

  constructor(options: SharedWorkOptions) {
    this.claims = options.store;
    this.#store = options.store;
    this.signals = hasSignals(options.store) ? options.store : undefined;
    this.#loop = new ClaimLoop({ ...options, claims: options.store });
  }

  /** Claims now and at every sweep; `cancel` is told of tasks another process was asked to cancel. */
  start(cancel: (taskId: string) => void): void {
    this.#unlisten = this.signals?.onSignal((topic, payload) => {
      if (topic === "work") this.#loop.poke();
      else if (topic === "cancel") cancel(payload);
    });
    this.#loop.start();
  }

  stop(): void {
    this.#loop.stop();
    this.#unlisten?.();
  }

  /** A task may run now: this process looks for work, and tells the others. */
  wake(): void {
    this.#loop.poke();
    void this.signals?.signal("work");
  }

  settled(): Promise<void> {
    return this.#loop.settled();
  }

  /** The task holding a session (running or waiting), else the next to run, read from the store. */
  async activeTaskId(sessionId: string): Promise<string | undefined> {
    const { items } = await this.#store.listTasks({ sessionId, status: [...ACTIVE_STATUSES] }, { limit: 100 });
    return (items.find((task) => task.status !== "queued") ?? items.at(-1))?.id;
  }
}
