import PQueue from "p-queue";
import type { Transformer } from "grammy";
import type { TelegramConfig } from "./config.ts";

/** How long an idle chat's queue is kept (its sliding window must outlive the pacing interval). */
const IDLE_EVICT_MS = 65_000;

interface ChatLane {
  /** One call at a time, spaced by the per-chat interval: messages keep their order. */
  chat: PQueue;
  /** Groups only: Telegram's ~20 messages a minute. */
  group?: PQueue;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Telegram's outgoing limits as a grammY transformer, on p-queue's sliding-window rate
 * limiting (`strict`): `globalPerSecond` calls across all chats, one call per
 * `perChatIntervalMs` to a chat, and `groupPerMinute` to a group (negative chat ids).
 * A call holds its chat's slot until it settles — including a 429 waited out by auto-retry
 * inside — so later messages to that chat stay behind it, in order. Calls without a
 * `chat_id` only count against the global limit.
 */
export function createThrottler(limits: TelegramConfig["throttle"]): Transformer {
  const global = new PQueue({ intervalCap: limits.globalPerSecond, interval: 1000, strict: true });
  const lanes = new Map<string, ChatLane>();

  const laneFor = (chatId: string): ChatLane => {
    let lane = lanes.get(chatId);
    if (!lane) {
      lane = {
        chat: new PQueue({ concurrency: 1, ...(limits.perChatIntervalMs > 0 ? { intervalCap: 1, interval: limits.perChatIntervalMs, strict: true } : {}) }),
        ...(chatId.startsWith("-") ? { group: new PQueue({ intervalCap: limits.groupPerMinute, interval: 60_000, strict: true }) } : {}),
      };
      lanes.set(chatId, lane);
    }
    clearTimeout(lane.idleTimer);
    return lane;
  };

  const release = (chatId: string, lane: ChatLane): void => {
    if (lane.chat.size > 0 || lane.chat.pending > 0) return;
    clearTimeout(lane.idleTimer);
    lane.idleTimer = setTimeout(() => {
      if (lane.chat.size === 0 && lane.chat.pending === 0 && lanes.get(chatId) === lane) lanes.delete(chatId);
    }, IDLE_EVICT_MS);
    lane.idleTimer.unref();
  };

  return async (prev, method, payload, signal) => {
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    const send = () => global.add(() => prev(method, payload, signal));
    if (chatId === undefined || chatId === null) return send();
    const key = String(chatId);
    const lane = laneFor(key);
    try {
      return await lane.chat.add(() => (lane.group ? lane.group.add(send) : send()));
    } finally {
      release(key, lane);
    }
  };
}
