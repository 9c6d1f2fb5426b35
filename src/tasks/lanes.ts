/**
 * One active task per session: each session has a lane with at most one holder (the task
 * running or waiting for an answer) and a FIFO of queued tasks behind it. In-memory only:
 * rebuilt from the store at start-up (the store lock makes this process the only runner).
 */
export class SessionLanes {
  readonly #lanes = new Map<string, { holder?: string; queue: string[] }>();

  #lane(sessionId: string): { holder?: string; queue: string[] } {
    let lane = this.#lanes.get(sessionId);
    if (!lane) {
      lane = { queue: [] };
      this.#lanes.set(sessionId, lane);
    }
    return lane;
  }

  /** The task holding the session (running or waiting), if any. */
  holder(sessionId: string): string | undefined {
    return this.#lanes.get(sessionId)?.holder;
  }

  /** Tasks queued behind the holder. */
  queued(sessionId: string): readonly string[] {
    return this.#lanes.get(sessionId)?.queue ?? [];
  }

  /** Makes `taskId` the holder (recovery of a task that was running or waiting). */
  hold(sessionId: string, taskId: string): void {
    this.#lane(sessionId).holder = taskId;
  }

  /** Queues a task behind the holder; returns the task to start now, if the lane was free. */
  enqueue(sessionId: string, taskId: string): string | undefined {
    const lane = this.#lane(sessionId);
    if (lane.holder !== taskId && !lane.queue.includes(taskId)) lane.queue.push(taskId);
    return this.#advance(sessionId);
  }

  /** The holder finished (or a queued task was cancelled); returns the next task to start. */
  release(sessionId: string, taskId: string): string | undefined {
    const lane = this.#lanes.get(sessionId);
    if (!lane) return undefined;
    if (lane.holder === taskId) lane.holder = undefined;
    else lane.queue = lane.queue.filter((id) => id !== taskId);
    return this.#advance(sessionId);
  }

  #advance(sessionId: string): string | undefined {
    const lane = this.#lanes.get(sessionId);
    if (!lane || lane.holder) return undefined;
    const next = lane.queue.shift();
    if (next) lane.holder = next;
    else this.#lanes.delete(sessionId);
    return next;
  }
}
