import type { Transformer } from "grammy";
import type { TelegramConfig } from "./config.ts";

/** How long an idle chat's lane is kept after its last call started (must outlive the group window and the chat interval). */
const IDLE_EVICT_MS = 65_000;
/** Telegram's group limit is per minute. */
const GROUP_WINDOW_MS = 60_000;

/**
 * A strict sliding window: at most `cap` starts in any `interval` ms (what p-queue calls
 * `strict` interval limiting). Keeps the start times still inside the window, oldest first.
 */
class SlidingWindow {
  readonly #cap: number;
  readonly #interval: number;
  #starts: number[] = [];
  #head = 0;

  constructor(cap: number, interval: number) {
    this.#cap = cap;
    this.#interval = interval;
  }

  /** Milliseconds until another start is allowed: 0 when one may start now. */
  delay(now: number): number {
    const starts = this.#starts;
    let head = this.#head;
    while (head < starts.length && now - starts[head]! >= this.#interval) head++;
    if (head === starts.length) {
      if (head > 0) this.#starts = [];
      head = 0;
    } else if (head > 1024 && head * 2 > starts.length) {
      this.#starts = starts.slice(head);
      head = 0;
    }
    this.#head = head;
    const active = this.#starts.length - head;
    return active < this.#cap ? 0 : this.#interval - (now - this.#starts[head]!);
  }

  /** Records a start (call only when {@link delay} said 0). */
  take(now: number): void {
    this.#starts.push(now);
  }
}

/** A call that has to wait for its turn. */
interface Waiter {
  start: () => void;
  fail: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** The chat lane it holds or waits in; undefined for calls without a chat. */
  lane: ChatLane | undefined;
}

interface ChatLane {
  /** Calls waiting for this chat, in order (the first one waits for the lane to be free). */
  queue: Waiter[];
  /** A call of this chat passed the chat's limits: it runs, or waits for the global window. */
  busy: boolean;
  /** When this chat's last call started (its interval and window are measured from starts). */
  lastStart: number;
  /** Groups only: Telegram's ~20 messages a minute. */
  group: SlidingWindow | undefined;
  /** Set while the first waiting call waits out the chat interval or the group window. */
  timer: NodeJS.Timeout | undefined;
  /** Frees the lane when its call settles (one function per lane, not one per call). */
  settle: () => void;
}

/**
 * Telegram's outgoing limits as a grammY transformer, with sliding windows: at most
 * `globalPerSecond` calls start in any second across all chats, calls to one chat start at
 * least `perChatIntervalMs` apart, and at most `groupPerMinute` start in any minute to a group
 * (negative chat ids). A call holds its chat's slot until it settles — including a 429 waited
 * out by auto-retry inside — so later calls to that chat stay behind it, in order. Calls
 * without a `chat_id` only count against the global limit.
 *
 * A call waits only when a limit says so: one that may start at once goes straight to the
 * next transformer, without a queue entry, promise or timer of its own. A waiting call leaves
 * its place when its AbortSignal aborts (the call's deadline) and rejects with the signal's
 * reason; a call that started takes the signal along (auto-retry and grammY honour it).
 * Waits use one timer per waiting lane and one for the global window. Idle lanes are dropped
 * once their windows are over (checked at most once per {@link IDLE_EVICT_MS}, on a call).
 *
 * Why not p-queue (chatflow's queue library elsewhere): the same limits as p-queue `strict`
 * queues (a chat queue, a group queue, a global queue per call) cost too much on the send
 * path. Measured with `npm run bench -- telegram` on a 2-core machine, in one session: echo
 * overhead beside bare grammY 36.1% (31.1% by CPU time) with p-queue, against 4.7–10.7%
 * (7.6–11.5% by CPU time) with these windows. The tests in test/adapters/telegram-throttle.test.ts
 * pin the behaviour.
 */
export function createThrottler(limits: TelegramConfig["throttle"]): Transformer {
  const global = new SlidingWindow(limits.globalPerSecond, 1000);
  const interval = limits.perChatIntervalMs;
  const lanes = new Map<string, ChatLane>();
  /** Calls that passed their chat's limits, waiting for the global window, in order. */
  const waiting: Waiter[] = [];
  let globalTimer: NodeJS.Timeout | undefined;
  let lastSweep = Date.now();

  const newLane = (key: string): ChatLane => {
    const lane: ChatLane = {
      queue: [],
      busy: false,
      lastStart: -Infinity,
      group: key.startsWith("-") ? new SlidingWindow(limits.groupPerMinute, GROUP_WINDOW_MS) : undefined,
      timer: undefined,
      settle: () => {
        lane.busy = false;
        if (lane.queue.length > 0) pump(lane);
      },
    };
    lanes.set(key, lane);
    return lane;
  };

  /** Milliseconds until the lane's next call passes the chat interval and the group window. */
  const laneDelay = (lane: ChatLane, now: number): number => {
    const spacing = interval - (now - lane.lastStart);
    const group = lane.group ? lane.group.delay(now) : 0;
    return spacing > group ? spacing : group;
  };

  /** Counts a start in every window that applies. */
  const take = (lane: ChatLane | undefined, now: number): void => {
    global.take(now);
    if (lane) {
      lane.lastStart = now;
      lane.group?.take(now);
    }
  };

  /** Lets the lane's first waiting call through to the global stage when the chat's limits allow. */
  const pump = (lane: ChatLane): void => {
    if (lane.busy || lane.timer || lane.queue.length === 0) return;
    const now = Date.now();
    const delay = laneDelay(lane, now);
    if (delay > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        pump(lane);
      }, delay);
      return;
    }
    const waiter = lane.queue.shift()!;
    lane.busy = true;
    if (waiting.length === 0 && global.delay(now) <= 0) return begin(waiter, now);
    waiting.push(waiter);
    scheduleGlobal(now);
  };

  const scheduleGlobal = (now: number): void => {
    if (globalTimer || waiting.length === 0) return;
    globalTimer = setTimeout(drainGlobal, Math.max(1, global.delay(now)));
  };

  const drainGlobal = (): void => {
    globalTimer = undefined;
    const now = Date.now();
    while (waiting.length > 0 && global.delay(now) <= 0) begin(waiting.shift()!, now);
    scheduleGlobal(now);
  };

  const begin = (waiter: Waiter, now: number): void => {
    if (waiter.onAbort) waiter.signal!.removeEventListener("abort", waiter.onAbort);
    take(waiter.lane, now);
    waiter.start();
  };

  /** Removes a waiting call (its deadline passed): it rejects, and a lane it held goes to the next call. */
  const abandon = (waiter: Waiter): void => {
    const lane = waiter.lane;
    const queued = lane ? lane.queue.indexOf(waiter) : -1;
    if (queued >= 0) {
      lane!.queue.splice(queued, 1);
    } else {
      const held = waiting.indexOf(waiter);
      if (held < 0) return; // already started
      waiting.splice(held, 1);
      if (lane) lane.busy = false;
    }
    waiter.fail(waiter.signal!.reason);
    if (lane) pump(lane);
  };

  /** Drops lanes idle for longer than their windows remember anything. */
  const sweep = (now: number): void => {
    lastSweep = now;
    const idleFor = Math.max(IDLE_EVICT_MS, interval);
    for (const [key, lane] of lanes) {
      if (!lane.busy && lane.queue.length === 0 && !lane.timer && now - lane.lastStart >= idleFor) lanes.delete(key);
    }
  };

  return (prev, method, payload, signal) => {
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    const now = Date.now();
    if (now - lastSweep >= IDLE_EVICT_MS) sweep(now);
    let lane: ChatLane | undefined;
    if (chatId !== undefined && chatId !== null) {
      const key = String(chatId);
      lane = lanes.get(key) ?? newLane(key);
    }
    const globalFree = waiting.length === 0 && global.delay(now) <= 0;
    if (globalFree && (!lane || (!lane.busy && lane.queue.length === 0 && !lane.timer && laneDelay(lane, now) <= 0))) {
      // Nothing to wait for: straight through.
      take(lane, now);
      if (!lane) return prev(method, payload, signal);
      lane.busy = true;
      let pending: ReturnType<typeof prev>;
      try {
        pending = prev(method, payload, signal);
      } catch (error) {
        lane.settle();
        throw error;
      }
      pending.then(lane.settle, lane.settle);
      return pending;
    }
    const abortSignal = signal as unknown as AbortSignal | undefined;
    if (abortSignal?.aborted) return Promise.reject(abortSignal.reason);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          let pending: ReturnType<typeof prev>;
          try {
            pending = prev(method, payload, signal);
          } catch (error) {
            if (lane) lane.settle();
            return reject(error);
          }
          if (lane) pending.then(lane.settle, lane.settle);
          pending.then(resolve, reject);
        },
        fail: reject,
        signal: abortSignal,
        onAbort: undefined,
        lane,
      };
      if (abortSignal) {
        waiter.onAbort = () => abandon(waiter);
        abortSignal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      if (lane) {
        lane.queue.push(waiter);
        pump(lane);
      } else {
        waiting.push(waiter);
        scheduleGlobal(now);
      }
    });
  };
}
