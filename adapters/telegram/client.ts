import { setMaxListeners } from "node:events";
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
 * grammy pointed at `apiRoot`, with retries and pacing as grammY transformers: `autoRetry`
 * honours 429 `retry_after` and retries 5xx and network failures with backoff; the throttler
 * (sliding windows, see throttle.ts) paces calls per chat and globally. The throttler is
 * installed last, so it is the outer transformer: a call waiting out a 429 keeps its chat's
 * slot, and later messages to that chat stay behind it, in order.
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
 * Runs one API call under a deadline: an AbortSignal that aborts once `seconds` have passed,
 * which every layer the call goes through honours — the throttler drops a call still waiting
 * for its turn, auto-retry stops waiting between attempts, grammY aborts the request — so a
 * dead network or a long 429 fails the call instead of holding it forever. Failures are
 * mapped to chatflow's errors.
 */
export function withDeadline<T>(call: (signal: ApiSignal) => Promise<T>, context: DeadlineContext): Promise<T> {
  const signal = deadlineSignal(Math.round(context.seconds * 1000));
  let pending: Promise<T>;
  try {
    pending = call(signal as unknown as ApiSignal);
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.catch((error: unknown) => {
    throw callError(error, signal, context);
  });
}

function callError(error: unknown, signal: AbortSignal, context: DeadlineContext): Error {
  const { seconds, ...rest } = context;
  return toChatflowError(error, signal.aborted ? { ...rest, deadlineSeconds: seconds } : rest);
}

/** The call a deadline is for, named in its error. */
export interface DeadlineContext {
  method: string;
  chat?: string | number;
  token: string;
  /** The deadline, in s. */
  seconds: number;
}

/** A shared deadline: the calls that started in one slice of time, and their signal. */
interface DeadlineSlot {
  signal: AbortSignal;
  /** performance.now() at which the next call needs a new slot. */
  sliceEnd: number;
}

/** The current slot of each deadline length (ms). */
const deadlines = new Map<number, DeadlineSlot>();

/**
 * A signal that aborts (with a TimeoutError, like AbortSignal.timeout) at least `ms` and at
 * most `ms` + 1% (at most 1 s) after now. Calls that start within the same slice of time
 * share one AbortController and one timer: a signal of its own for each call (AbortSignal.timeout,
 * or an AbortController with a timer) cost more than the rest of the adapter's send path
 * together — AbortSignal.timeout's timer can't even be cleared, so each call left a live timer
 * and a weakly tracked signal behind for the whole deadline (120 s by default). The shared
 * signal has no listener cap (many calls may wait on it at once); each layer removes its
 * listener when its call settles.
 */
export function deadlineSignal(ms: number): AbortSignal {
  const now = performance.now();
  const slot = deadlines.get(ms);
  if (slot && now < slot.sliceEnd && !slot.signal.aborted) return slot.signal;
  const slice = Math.min(1000, Math.max(1, Math.floor(ms / 100)));
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  setTimeout(abortOnDeadline, ms + slice, controller).unref();
  deadlines.set(ms, { signal: controller.signal, sliceEnd: now + slice });
  return controller.signal;
}

function abortOnDeadline(controller: AbortController): void {
  controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
}
