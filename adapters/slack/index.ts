import type { App } from "@slack/bolt";
import type { Adapter } from "../../src/port/index.ts";
import type { AdapterFactoryContext } from "../../src/port/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { ActionValues } from "./action-values.ts";
import { boltLogger, createWebClient, type SlackSecrets } from "./client.ts";
import { APP_TOKEN_ENV, BOT_TOKEN_ENV, checkToken, parseApiUrl, parseSlackConfig, readSlackEnv, SIGNING_SECRET_ENV, type SlackConfig, type SlackConfigInput } from "./config.ts";
import type { SlackIdentity } from "./inbound.ts";
import { SlackLifecycle } from "./lifecycle.ts";
import { SlackOutbound } from "./outbound.ts";
import { SlackPacing } from "./pacing.ts";
import { CommandReplies } from "./private-replies.ts";
import { SlackReceiver, type OwnsConversation } from "./receiver.ts";
import { LIMITS } from "./render.ts";
import { ThreadMembership } from "./threads.ts";

export { slackConfigSchema, type SlackConfig, type SlackConfigInput } from "./config.ts";
export type { OwnsConversation, SlackConversationRef } from "./receiver.ts";

export interface SlackAdapterOptions extends Omit<SlackConfigInput, "enabled"> {
  /** The Bot User OAuth Token, `xoxb-…` (chatflow reads it from SLACK_BOT_TOKEN). */
  botToken?: string;
  /** Socket Mode: the app-level token, `xapp-…` (SLACK_APP_TOKEN). */
  appToken?: string;
  /** HTTP mode: the app's Signing Secret (SLACK_SIGNING_SECRET). */
  signingSecret?: string;
  /** The Web API base URL (SLACK_API_URL). Default `https://slack.com/api/`. */
  apiUrl?: string;
  /**
   * Plugin mode: a Bolt `App` you already run. chatflow adds listeners for its slash
   * command, its buttons and modal, and the conversations `owns` names (plus threads it takes
   * part in); your listeners keep working; your app's start and stop stay yours. Give
   * `botToken` unless the app's client carries one.
   */
  app?: App;
  /** Plugin mode: the DMs, channels and threads whose messages are chatflow's. Default: none (its slash command starts threads of its own). */
  owns?: OwnsConversation;
  /** Logger; default: warnings and errors to stderr. */
  logger?: Logger;
}

/** The Slack adapter: the Adapter port, plus what it learned at start. */
export interface SlackAdapter extends Adapter {
  readonly platform: "slack";
  /** The bot's ids, known once started. */
  readonly me: SlackIdentity | undefined;
  /** HTTP mode: the port listened on, once started. */
  readonly httpPort: number | undefined;
}

function resolveSecrets(options: SlackAdapterOptions, config: SlackConfig): SlackSecrets {
  const botToken = (options.botToken ?? options.app?.client.token ?? "").trim();
  if (!botToken) throw new ConfigError(`The Slack bot token is empty: set ${BOT_TOKEN_ENV} (the app's Bot User OAuth Token, xoxb-…).`);
  checkToken(BOT_TOKEN_ENV, botToken);
  if (options.app) return { botToken };
  if (config.mode === "socket") {
    const appToken = options.appToken?.trim();
    if (!appToken) throw new ConfigError(`Socket Mode needs an app-level token: set ${APP_TOKEN_ENV} (xapp-…).`);
    checkToken(APP_TOKEN_ENV, appToken);
    return { botToken, appToken };
  }
  const signingSecret = options.signingSecret?.trim();
  if (!signingSecret) throw new ConfigError(`HTTP mode needs the app's signing secret: set ${SIGNING_SECRET_ENV}.`);
  return { botToken, signingSecret };
}

/**
 * Creates the Slack adapter (platform `slack`) on Bolt. Direct messages, and in channels a
 * conversation in the thread of each message that mentions the bot; one slash command
 * (`/chatflow …`) for the engine's commands; progress updated in place (chat.update paced
 * across the workspace); questions and reviews as Block Kit buttons, Edit in a modal;
 * refusals, and the answers to `/chatflow help|status|history|tasks|schedule list`, as
 * ephemeral messages; posts recalled by their metadata after a crash. With
 * `app`, chatflow joins a Bolt app you run as a plugin. See README.md in this folder.
 */
export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const { botToken: _b, appToken: _a, signingSecret: _s, apiUrl: rawApiUrl, app: hostApp, owns, logger, ...section } = options;
  const config = parseSlackConfig({ enabled: true, ...section }, "createSlackAdapter options");
  const secrets = resolveSecrets(options, config);
  const apiUrl = parseApiUrl(rawApiUrl ?? hostApp?.client.slackApiUrl, "apiUrl");
  const log = (logger ?? createLogger({ level: "warn", file: "-" })).child({ adapter: "slack" });
  const bolt = boltLogger(log, [secrets.botToken, secrets.appToken ?? "", secrets.signingSecret ?? ""]);
  const client = createWebClient(secrets.botToken, apiUrl, config, bolt);
  const values = new ActionValues();
  const threads = new ThreadMembership(client, log);
  const replies = new CommandReplies();
  let me: SlackIdentity | undefined;
  const outbound = new SlackOutbound({ client, pacing: new SlackPacing(config.pacing), values, botId: () => me?.botId, secrets: [secrets.botToken] });
  const receiver = new SlackReceiver({ outbound, values, threads, replies, log, command: config.command, workflowCommands: config.workflowCommands, ...(hostApp ? { owns: owns ?? (() => false) } : {}) });
  const lifecycle = new SlackLifecycle({ receiver, config, secrets, apiUrl, log, boltLogger: bolt, ...(hostApp ? { hostApp } : {}) });
  return {
    platform: "slack",
    capabilities: { editIntervalMs: config.editIntervalMs, maxTextLength: LIMITS.text, persistentMessages: true },
    get me() {
      return lifecycle.me;
    },
    get httpPort() {
      return lifecycle.port;
    },
    async start(handler, context) {
      await lifecycle.start(handler, context);
      me = lifecycle.me;
    },
    stop: () => lifecycle.stop(),
    connected: () => lifecycle.connected,
    async send(address, message) {
      // The answer to /chatflow status, help, history, tasks or schedule list: that person's alone.
      const command = replies.answering(address, message);
      if (command) return outbound.answerPrivately(command, message);
      const sent = await outbound.send(address, message);
      if (address.thread) threads.join(address.channel, address.thread);
      return sent;
    },
    edit: (address, messageId, message) => outbound.edit(address, messageId, message),
    recall: (address, key) => outbound.recall(address, key),
    notify: (event, text, notice) => receiver.notify(event, text, notice),
  };
}

/**
 * The adapter the `adapters.slack` section describes, with secrets from `env`
 * (SLACK_BOT_TOKEN, SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, SLACK_API_URL): the adapter
 * table's factory. Throws a ConfigError naming the field or the variable.
 */
export function fromConfig(section: unknown, env: NodeJS.ProcessEnv, context: AdapterFactoryContext): SlackAdapter {
  const { enabled: _enabled, ...config } = parseSlackConfig(section);
  const secrets = readSlackEnv(env, config.mode);
  return createSlackAdapter({ ...config, ...secrets, logger: context.logger });
}
