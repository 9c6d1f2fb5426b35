import { z } from "zod";
import { parseHttpUrl } from "../../src/port/index.ts";
import { ConfigError } from "../../src/errors.ts";

/** Telegram's public Bot API server. */
export const DEFAULT_API_ROOT = "https://api.telegram.org";

/** The environment variables the Telegram adapter reads; secrets never come from the config file. */
export const TOKEN_ENV = "TELEGRAM_BOT_TOKEN";
export const API_ROOT_ENV = "TELEGRAM_API_ROOT";
export const WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET";

/**
 * The `adapters.telegram` section of the configuration file. Every field is optional and
 * documents its default; the bot token and the webhook secret come from the environment.
 */
export const telegramConfigSchema = z
  .object({
    /** Whether the bot runs on Telegram. Default false. */
    enabled: z.boolean().default(false),
    /** `polling` (long polling, no public URL needed) or `webhook` (Telegram POSTs updates to `webhook.url`). Default `polling`. */
    mode: z.enum(["polling", "webhook"]).default("polling"),
    /** Minimum interval between two edits of one message (progress), in ms. Default 1000. */
    editIntervalMs: z.number().int().min(0).max(60_000).default(1000),
    webhook: z
      .object({
        /** Interface the webhook server listens on. Default `0.0.0.0`. */
        host: z.string().min(1).default("0.0.0.0"),
        /** Port of the webhook server (0: any free port). Default 8443. */
        port: z.number().int().min(0).max(65_535).default(8443),
        /** Path Telegram POSTs updates to. Default `/telegram`. */
        path: z.string().regex(/^\/\S*$/, "expected a path starting with /, e.g. /telegram").default("/telegram"),
        /** Public HTTPS URL registered with setWebhook, e.g. `https://bot.example.com/telegram`. Required in webhook mode. */
        url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL, e.g. https://bot.example.com/telegram" }).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * Outgoing pacing (sliding windows, see throttle.ts), per Telegram's documented limits.
     * Typing indicators and callback answers are not throttled.
     */
    throttle: z
      .object({
        /** API calls per second across all chats. Default 30. */
        globalPerSecond: z.number().positive().default(30),
        /** Minimum interval between two calls to one chat, in ms. Default 1000. */
        perChatIntervalMs: z.number().int().min(0).default(1000),
        /** Calls per minute to one group. Default 20. */
        groupPerMinute: z.number().int().positive().default(20),
      })
      .strict()
      .prefault({}),
    /** Retries (@grammyjs/auto-retry): 429s wait `retry_after`; 5xx and network errors back off from 3 s. */
    retry: z
      .object({
        /** Retries of one call after 429 or 5xx answers. Default 10. */
        maxAttempts: z.number().int().min(0).default(10),
        /** A 429 asking to wait longer than this fails the call with a RateLimitError instead, in s. Default 60. */
        maxRetryAfterSeconds: z.number().int().min(0).default(60),
      })
      .strict()
      .prefault({}),
    /** Longest time one outgoing call may take, retries included, before it fails with a NetworkError, in s. Default 120. */
    callTimeoutSeconds: z.number().positive().default(120),
  })
  .strict()
  .superRefine((section, ctx) => {
    if (section.mode === "webhook" && !section.webhook.url) {
      ctx.addIssue({ code: "custom", path: ["webhook", "url"], message: "required when mode is webhook: the public HTTPS URL Telegram posts updates to" });
    }
  });

/** The section as written in the file. */
export type TelegramConfigInput = z.input<typeof telegramConfigSchema>;
/** The section with every default filled in. */
export type TelegramConfig = z.output<typeof telegramConfigSchema>;

/** Secrets and endpoints read from the environment. */
export interface TelegramEnv {
  token: string;
  apiRoot: string;
  webhookSecret?: string;
}

const SECRET_KEYS = ["token", "botToken", "bot_token", "secret", "webhookSecret"];

/**
 * Validates the `adapters.telegram` section (`where` prefixes field names in errors).
 * Throws a ConfigError naming each bad field, e.g. `adapters.telegram.webhook.url`.
 */
export function parseTelegramConfig(section: unknown, where = "adapters.telegram"): TelegramConfig {
  if (section !== null && typeof section === "object") {
    const secret = SECRET_KEYS.find((key) => key in section);
    if (secret) {
      const variable = secret.toLowerCase().includes("secret") ? WEBHOOK_SECRET_ENV : TOKEN_ENV;
      throw new ConfigError(`${where}.${secret}: secrets never go in the configuration file; remove it and set ${variable} in the environment.`);
    }
  }
  const result = telegramConfigSchema.safeParse(section ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${[where, ...issue.path.map(String)].join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid Telegram adapter configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** Bot tokens as @BotFather gives them: `<bot id>:<secret>`. */
const TOKEN_SHAPE = /^\d+:[A-Za-z0-9_-]+$/;
/** What Telegram accepts as a webhook secret_token. */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Reads TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT and (in webhook mode) TELEGRAM_WEBHOOK_SECRET.
 * Errors name the variable and never echo its value.
 */
export function readTelegramEnv(env: NodeJS.ProcessEnv, mode: TelegramConfig["mode"]): TelegramEnv {
  const token = env[TOKEN_ENV]?.trim();
  if (!token) {
    throw new ConfigError(`${TOKEN_ENV} is not set: create a bot with @BotFather (send /newbot to https://t.me/BotFather) and export ${TOKEN_ENV}=<the token it gives you>.`);
  }
  checkToken(token);
  const apiRoot = parseApiRoot(env[API_ROOT_ENV], API_ROOT_ENV);
  const webhookSecret = env[WEBHOOK_SECRET_ENV]?.trim() || undefined;
  if (mode === "webhook") {
    if (!webhookSecret) {
      throw new ConfigError(`${WEBHOOK_SECRET_ENV} is not set: webhook mode needs a secret Telegram sends with every update (1-256 characters A-Z, a-z, 0-9, _ or -), e.g. export ${WEBHOOK_SECRET_ENV}=$(openssl rand -hex 32).`);
    }
    if (!SECRET_SHAPE.test(webhookSecret)) {
      throw new ConfigError(`${WEBHOOK_SECRET_ENV} must be 1-256 characters of A-Z, a-z, 0-9, _ or - (Telegram's rule for secret_token).`);
    }
  }
  return { token, apiRoot, ...(webhookSecret ? { webhookSecret } : {}) };
}

/** Throws a ConfigError unless `token` looks like a bot token; the message never contains it. */
export function checkToken(token: string): void {
  if (!TOKEN_SHAPE.test(token)) {
    throw new ConfigError(`${TOKEN_ENV} does not look like a bot token (expected <digits>:<letters>, as @BotFather gives it). Copy it again from @BotFather.`);
  }
}

/** The API root without trailing slashes (grammy refuses one); undefined or empty → Telegram's server. */
export function parseApiRoot(value: string | undefined, name: string): string {
  return parseHttpUrl(value, name, "http://localhost:8081 (a self-hosted Bot API server)")?.replace(/\/+$/, "") ?? DEFAULT_API_ROOT;
}
