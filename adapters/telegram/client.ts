import { autoRetry } from "@grammyjs/auto-retry";
import { Api, Bot, type Transformer } from "grammy";
import type { TelegramConfig } from "./config.ts";
import { toChatflowError } from "./errors.ts";
import { createThrottler } from "./throttle.ts";

/** What the grammy client needs. */
export interface ClientSettings {
  token: string;
  /** Without trailing slash. */
  apiRoot: string;
  throttle: TelegramConfig["throttle"];
  retry: TelegramConfig["retry"];
}

/**
 * Calls that skip the throttler: the typing indicator is not a message (queuing it behind
 * messages, or spending a group's 20 messages a minute on it, helps nobody), and a button's
 * callback must be answered at once.
 */
const UNTHROTTLED = new Set(["sendChatAction", "answerCallbackQuery"]);

/** The two grammy objects of the adapter: one receives, one sends. */
export interface GrammyClient {
  /** Receives updates (long polling or webhook); its own calls are plain. */
  bot: Bot;
  /** Sends, through the retry and pacing transformers. */
  api: Api;
}

/**
 * grammy pointed at `apiRoot`, with retries and pacing done by grammY's plugins:
 * `autoRetry` honours 429 `retry_after` and retries 5xx and network failures with backoff;
 * the throttler (p-queue sliding windows, see throttle.ts) paces calls per chat and globally. The throttler is installed last, so it
 * is the outer transformer: a call waiting out a 429 keeps its chat's slot, and later
 * messages to that chat stay behind it, in order.
 *
 * The transformers sit on a separate `Api` for outgoing calls, not on `bot.api`: grammy
 * builds a fresh Api with every installed transformer for each incoming update, and the
 * polling loop handles its own errors (it sleeps 3 s, or `retry_after` on a 429).
 */
export function createGrammyClient(settings: ClientSettings): GrammyClient {
  const client = { apiRoot: settings.apiRoot };
  const bot = new Bot(settings.token, { client });
  const api = new Api(settings.token, client);
  api.config.use(autoRetry({ maxRetryAttempts: settings.retry.maxAttempts, maxDelaySeconds: settings.retry.maxRetryAfterSeconds }));
  const throttle = createThrottler(settings.throttle);
  const selective: Transformer = (prev, method, payload, signal) => (UNTHROTTLED.has(method) ? prev(method, payload, signal) : throttle(prev, method, payload, signal));
  api.config.use(selective);
  return { bot, api };
}

/** grammy's node build types signals with the abort-controller polyfill; a native one works at run time. */
export type ApiSignal = NonNullable<Parameters<Api["getMe"]>[0]>;

/**
 * Runs one API call under a deadline (an AbortSignal that also stops auto-retry's waits,
 * so a dead network fails the call instead of retrying forever) and maps failures to
 * chatflow's errors.
 */
export async function withDeadline<T>(
  call: (signal: ApiSignal) => Promise<T>,
  context: { method: string; chat?: string | number; token: string; seconds: number },
): Promise<T> {
  const signal = AbortSignal.timeout(Math.round(context.seconds * 1000));
  const pending = call(signal as unknown as ApiSignal);
  // A call queued in the throttler settles only when its turn comes (then at once, aborted):
  // the race makes the deadline hold while it waits.
  pending.catch(() => undefined);
  const expired = new Promise<never>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
  expired.catch(() => undefined);
  try {
    return await Promise.race([pending, expired]);
  } catch (error) {
    const { seconds, ...rest } = context;
    throw toChatflowError(error, signal.aborted ? { ...rest, deadlineSeconds: seconds } : rest);
  }
}
