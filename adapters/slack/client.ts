import { App, LogLevel, type Logger as BoltLogger } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import type { Logger } from "../../src/logger.ts";
import type { SlackConfig } from "./config.ts";

/** The secrets a Slack client holds: never logged. */
export interface SlackSecrets {
  botToken: string;
  appToken?: string;
  signingSecret?: string;
}

/**
 * Bolt and the Web API client log through chatflow's logger (pino), with every secret
 * removed from the text first: a request error's message may carry headers or URLs.
 */
export function boltLogger(log: Logger, secrets: readonly string[]): BoltLogger {
  const pattern = new RegExp(secrets.filter(Boolean).map(escapeRegExp).join("|") || "(?!)", "g");
  const text = (parts: unknown[]) =>
    parts
      .map((part) => (part instanceof Error ? part.message : typeof part === "string" ? part : JSON.stringify(part)))
      .join(" ")
      .replace(pattern, "[secret]");
  // The Web API client logs every call at debug: nothing is formatted unless the level is on.
  const at = (level: "debug" | "info" | "warn" | "error") => (...parts: unknown[]) => {
    if (log.isLevelEnabled(level)) log[level]({ source: "slack" }, text(parts));
  };
  let level = LogLevel.INFO;
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    setLevel: (next) => void (level = next),
    getLevel: () => level,
    setName: () => undefined,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** 429s wait Retry-After and are retried; 5xx and network failures back off (p-retry inside the client). */
function retryConfig(retries: number) {
  return { retries, factor: 2, minTimeout: 1000, maxTimeout: 30_000, randomize: true };
}

/** The Web API client chatflow sends with: SLACK_API_URL, retries honouring Retry-After, a request timeout. */
export function createWebClient(token: string, apiUrl: string, config: Pick<SlackConfig, "retries" | "requestTimeoutSeconds">, logger: BoltLogger): WebClient {
  return new WebClient(token, {
    slackApiUrl: apiUrl,
    logger,
    retryConfig: retryConfig(config.retries),
    timeout: Math.round(config.requestTimeoutSeconds * 1000),
  });
}

/** Longest wait for Slack at start (auth.test, with its retries), in s. */
export const START_DEADLINE_SECONDS = 30;

/**
 * The client for the calls made at start (auth.test): a few quick retries that end within
 * `seconds` (at most START_DEADLINE_SECONDS), so a machine without network hears so in
 * seconds instead of after the sending client's patient retries (10, up to 30 s each).
 */
export function createStartClient(token: string, apiUrl: string, config: Pick<SlackConfig, "retries" | "requestTimeoutSeconds">, logger: BoltLogger): { client: WebClient; seconds: number } {
  const seconds = Math.min(START_DEADLINE_SECONDS, config.requestTimeoutSeconds);
  const retries = Math.min(config.retries, 2);
  const client = new WebClient(token, {
    slackApiUrl: apiUrl,
    logger,
    retryConfig: { retries, factor: 2, minTimeout: 500, maxTimeout: 2000, randomize: false },
    // Every attempt and the pauses between them fit in the deadline.
    timeout: Math.max(500, Math.round(((seconds - 1.5) * 1000) / (retries + 1))),
  });
  return { client, seconds };
}

/**
 * chatflow's own Bolt app: Socket Mode (SLACK_APP_TOKEN, no public URL) or HTTP (Bolt's
 * HTTPReceiver verifying X-Slack-Signature with SLACK_SIGNING_SECRET; forged or stale
 * requests get 401). The bot's ids are given, so Bolt does not call auth.test again.
 */
export function createBoltApp(options: {
  secrets: SlackSecrets;
  apiUrl: string;
  config: SlackConfig;
  logger: BoltLogger;
  identity: { botId: string; botUserId: string };
}): App {
  const { secrets, apiUrl, config, logger, identity } = options;
  const clientOptions = { slackApiUrl: apiUrl, retryConfig: retryConfig(config.retries), timeout: Math.round(config.requestTimeoutSeconds * 1000) };
  // No conversation store: chatflow keeps its own state, and Bolt's costs a lookup per event.
  const common = { token: secrets.botToken, botId: identity.botId, botUserId: identity.botUserId, logger, clientOptions, tokenVerificationEnabled: false, ignoreSelf: true, convoStore: false as const };
  if (config.mode === "socket") return new App({ ...common, appToken: secrets.appToken!, socketMode: true });
  return new App({ ...common, signingSecret: secrets.signingSecret!, endpoints: config.http.path, processBeforeResponse: false });
}
