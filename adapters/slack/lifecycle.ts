import type { AddressInfo } from "node:net";
import type { App } from "@slack/bolt";
import type { AdapterStartContext, InboundHandler } from "../../src/port/index.ts";
import { AuthenticationError, ChatflowError, NetworkError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { createBoltApp, createStartClient, type SlackSecrets } from "./client.ts";
import { API_URL_ENV, APP_TOKEN_ENV, BOT_TOKEN_ENV, DEFAULT_API_URL, type SlackConfig } from "./config.ts";
import { toChatflowError } from "./errors.ts";
import type { SlackIdentity } from "./inbound.ts";
import type { SlackReceiver } from "./receiver.ts";
import type { Logger as BoltLogger } from "@slack/bolt";

export interface LifecycleOptions {
  receiver: SlackReceiver;
  config: SlackConfig;
  secrets: SlackSecrets;
  apiUrl: string;
  log: Logger;
  boltLogger: BoltLogger;
  /** Plugin mode: the host's Bolt app; chatflow adds listeners and never starts or stops it. */
  hostApp?: App;
}

/**
 * Starting and stopping: who the bot is (auth.test), then chatflow's own Bolt app (Socket
 * Mode or HTTP) with its listeners; in plugin mode only the listeners, on the host's app.
 */
export class SlackLifecycle {
  readonly #o: LifecycleOptions;
  #started = false;
  #listening = false;
  #me: SlackIdentity | undefined;
  #app: App | undefined;
  #port: number | undefined;

  constructor(options: LifecycleOptions) {
    this.#o = options;
  }

  get me(): SlackIdentity | undefined {
    return this.#me;
  }

  /** HTTP mode: the port listened on, once started. */
  get port(): number | undefined {
    return this.#port;
  }

  /** Started (Bolt's socket client reconnects by itself; a dropped socket is logged by Bolt). */
  get connected(): boolean {
    return this.#started;
  }

  async start(handler: InboundHandler, context: AdapterStartContext | undefined): Promise<void> {
    if (this.#started) throw new ChatflowError("validation", "The Slack adapter is already started: call start() once.");
    this.#started = true;
    const { receiver, hostApp } = this.#o;
    try {
      const me = await this.#identify();
      this.#me = me;
      receiver.open(handler, me, context?.commands ?? []);
      if (hostApp) {
        if (!this.#listening) receiver.listen(hostApp, true);
        this.#listening = true;
      } else await this.#startOwnApp(me);
      this.#o.log.info({ team: me.teamId, mode: hostApp ? "plugin" : this.#o.config.mode }, "slack adapter started");
    } catch (error) {
      this.#started = false;
      await receiver.close();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    const app = this.#app;
    this.#app = undefined;
    await app?.stop().catch((error: unknown) => this.#o.log.warn({ err: error }, "the Slack app did not stop cleanly"));
    await this.#o.receiver.close();
    this.#started = false;
  }

  async #identify(): Promise<SlackIdentity> {
    const { secrets, apiUrl, config, boltLogger } = this.#o;
    const { client, seconds } = createStartClient(secrets.botToken, apiUrl, config, boltLogger);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NetworkError(`no answer from auth.test within ${seconds} s`)), seconds * 1000);
    });
    try {
      const auth = await Promise.race([client.auth.test(), deadline]);
      if (!auth.user_id || !auth.bot_id || !auth.team_id) throw new AuthenticationError(`${BOT_TOKEN_ENV} is not a bot token (auth.test named no bot): use the Bot User OAuth Token (xoxb-…).`);
      return { userId: auth.user_id, botId: auth.bot_id, teamId: auth.team_id };
    } catch (error) {
      const mapped = toChatflowError(error, { method: "auth.test", secrets: [secrets.botToken] });
      if (mapped instanceof NetworkError) {
        const where = apiUrl === DEFAULT_API_URL ? apiUrl : `${new URL(apiUrl).origin} (from ${API_URL_ENV})`;
        throw new NetworkError(`Could not reach the Slack Web API at ${where}: ${mapped.message}`);
      }
      if (mapped.code === "permission") throw new AuthenticationError(`${mapped.message}: check ${BOT_TOKEN_ENV}.`);
      throw mapped;
    } finally {
      clearTimeout(timer);
    }
  }

  async #startOwnApp(me: SlackIdentity): Promise<void> {
    const { config, secrets, apiUrl, boltLogger, receiver } = this.#o;
    const app = createBoltApp({ secrets, apiUrl, config, logger: boltLogger, identity: { botId: me.botId, botUserId: me.userId } });
    receiver.listen(app, false);
    app.error(async (error) => this.#o.log.error({ err: toChatflowError(error, { method: "listener", secrets: secretList(secrets) }) }, "slack listener failed"));
    try {
      if (config.mode === "socket") await app.start();
      else {
        const server = (await app.start({ port: config.http.port, host: config.http.host })) as { address(): AddressInfo | string | null };
        const address = server.address();
        this.#port = typeof address === "object" && address ? address.port : config.http.port;
      }
    } catch (error) {
      await app.stop().catch(() => undefined);
      const mapped = toChatflowError(error, { method: config.mode === "socket" ? "apps.connections.open" : "listen", secrets: secretList(secrets) });
      if (mapped instanceof AuthenticationError && config.mode === "socket") throw new AuthenticationError(`Slack refused Socket Mode: check ${APP_TOKEN_ENV} (an app-level token with connections:write, and Socket Mode turned on for the app).`);
      throw mapped;
    }
    this.#app = app;
  }
}

function secretList(secrets: SlackSecrets): string[] {
  return [secrets.botToken, secrets.appToken ?? "", secrets.signingSecret ?? ""];
}
