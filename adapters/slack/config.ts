import { z } from "zod";
import { parseHttpUrl, parseSection } from "../../src/port/index.ts";
import { ConfigError } from "../../src/errors.ts";

/** Slack's Web API. */
export const DEFAULT_API_URL = "https://slack.com/api/";

/** The environment variables the Slack adapter reads; secrets never come from the config file. */
export const BOT_TOKEN_ENV = "SLACK_BOT_TOKEN";
export const APP_TOKEN_ENV = "SLACK_APP_TOKEN";
export const SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET";
export const API_URL_ENV = "SLACK_API_URL";

/**
 * The `adapters.slack` section of the configuration file. Every field is optional and
 * documents its default; tokens and the signing secret come from the environment.
 */
export const slackConfigSchema = z
  .object({
    /** Whether the bot runs on Slack. Default false. */
    enabled: z.boolean().default(false),
    /** `socket` (Socket Mode: no public URL, needs SLACK_APP_TOKEN) or `http` (Slack POSTs to `http.path`, needs SLACK_SIGNING_SECRET). Default `socket`. */
    mode: z.enum(["socket", "http"]).default("socket"),
    http: z
      .object({
        /** Interface the HTTP server listens on. Default `0.0.0.0`. */
        host: z.string().min(1).default("0.0.0.0"),
        /** Port of the HTTP server (0: any free port). Default 3001 (the web chat's is 3000). */
        port: z.number().int().min(0).max(65_535).default(3001),
        /** Path for events, slash commands and interactivity (the Request URL in the app's settings). Default `/slack/events`. */
        path: z.string().regex(/^\/\S*$/, "expected a path starting with /, e.g. /slack/events").default("/slack/events"),
      })
      .strict()
      .prefault({}),
    /** The slash command that carries the engine's commands (`/chatflow status`). Default `/chatflow`. */
    command: z
      .string()
      .regex(/^\/[a-z0-9_-]{1,31}$/, "expected a slash command such as /chatflow (lower case letters, digits, - or _)")
      .default("/chatflow"),
    /** Also take each routed workflow command as its own slash command (`/demo owls`), when the app defines it. Default true. */
    workflowCommands: z.boolean().default(true),
    /** Minimum interval between two edits of one message (progress), in ms. Default 1200. */
    editIntervalMs: z.number().int().min(0).max(60_000).default(1200),
    /** Outgoing pacing, per Slack's documented limits. */
    pacing: z
      .object({
        /** chat.update calls per minute across the workspace (Tier 3: about 50). Default 50. */
        updatesPerMinute: z.number().int().positive().default(50),
        /** Minimum interval between two posts to one channel, in ms (about one a second). Default 1000. */
        postIntervalMs: z.number().int().min(0).default(1000),
      })
      .strict()
      .prefault({}),
    /** Retries of a Web API call after 429 (honouring Retry-After), 5xx or a network failure. Default 10. */
    retries: z.number().int().min(0).max(20).default(10),
    /** Longest time one Web API request may take, in s (each retry gets its own). Default 30. */
    requestTimeoutSeconds: z.number().positive().default(30),
  })
  .strict();

export type SlackConfigInput = z.input<typeof slackConfigSchema>;
export type SlackConfig = z.output<typeof slackConfigSchema>;

/** Secrets and endpoints read from the environment. */
export interface SlackEnv {
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  apiUrl: string;
}

const SECRET_KEYS: Record<string, string> = {
  token: BOT_TOKEN_ENV,
  botToken: BOT_TOKEN_ENV,
  bot_token: BOT_TOKEN_ENV,
  appToken: APP_TOKEN_ENV,
  app_token: APP_TOKEN_ENV,
  signingSecret: SIGNING_SECRET_ENV,
  signing_secret: SIGNING_SECRET_ENV,
};

/** Validates the `adapters.slack` section; errors name each field (`adapters.slack.mode`). */
export function parseSlackConfig(section: unknown, where = "adapters.slack"): SlackConfig {
  if (section !== null && typeof section === "object") {
    const secret = Object.keys(SECRET_KEYS).find((key) => key in section);
    if (secret) throw new ConfigError(`${where}.${secret}: secrets never go in the configuration file; remove it and set ${SECRET_KEYS[secret]} in the environment.`);
  }
  return parseSection(slackConfigSchema, section, where);
}

/** Slack's token shapes: bot tokens `xoxb-…`, app-level tokens `xapp-…`. */
const BOT_TOKEN_SHAPE = /^xoxb-[A-Za-z0-9-]+$/;
const APP_TOKEN_SHAPE = /^xapp-[A-Za-z0-9-]+$/;

/** Throws a ConfigError unless `value` looks like the token `name` holds; the message never contains it. */
export function checkToken(name: typeof BOT_TOKEN_ENV | typeof APP_TOKEN_ENV, value: string): void {
  const bot = name === BOT_TOKEN_ENV;
  if (!(bot ? BOT_TOKEN_SHAPE : APP_TOKEN_SHAPE).test(value)) {
    const where = bot ? "OAuth & Permissions → Bot User OAuth Token" : "Basic Information → App-Level Tokens (scope connections:write)";
    throw new ConfigError(`${name} does not look like a Slack ${bot ? "bot token (xoxb-…)" : "app-level token (xapp-…)"}: copy it again from your app's ${where}.`);
  }
}

/**
 * Reads SLACK_BOT_TOKEN, SLACK_API_URL, and SLACK_APP_TOKEN (Socket Mode) or
 * SLACK_SIGNING_SECRET (HTTP mode). Errors name the variable and never echo its value.
 */
export function readSlackEnv(env: NodeJS.ProcessEnv, mode: SlackConfig["mode"]): SlackEnv {
  const botToken = env[BOT_TOKEN_ENV]?.trim();
  if (!botToken) throw new ConfigError(`${BOT_TOKEN_ENV} is not set: install your Slack app to the workspace and export ${BOT_TOKEN_ENV}=<its Bot User OAuth Token, xoxb-…> (see adapters/slack/README.md).`);
  checkToken(BOT_TOKEN_ENV, botToken);
  const apiUrl = parseApiUrl(env[API_URL_ENV], API_URL_ENV);
  if (mode === "socket") {
    const appToken = env[APP_TOKEN_ENV]?.trim();
    if (!appToken) throw new ConfigError(`${APP_TOKEN_ENV} is not set: Socket Mode needs an app-level token with connections:write (Basic Information → App-Level Tokens); export ${APP_TOKEN_ENV}=xapp-…, or use adapters.slack.mode: http.`);
    checkToken(APP_TOKEN_ENV, appToken);
    return { botToken, appToken, apiUrl };
  }
  const signingSecret = env[SIGNING_SECRET_ENV]?.trim();
  if (!signingSecret) throw new ConfigError(`${SIGNING_SECRET_ENV} is not set: HTTP mode verifies every request with the app's Signing Secret (Basic Information → App Credentials).`);
  return { botToken, signingSecret, apiUrl };
}

/** The Web API base URL, ending in `/` as the WebClient wants it. */
export function parseApiUrl(value: string | undefined, name: string): string {
  const raw = parseHttpUrl(value, name, DEFAULT_API_URL);
  if (!raw) return DEFAULT_API_URL;
  return raw.endsWith("/") ? raw : `${raw}/`;
}
