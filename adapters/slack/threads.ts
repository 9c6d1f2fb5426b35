import type { WebClient } from "@slack/web-api";
import type { Logger } from "../../src/logger.ts";
import type { SlackIdentity } from "./inbound.ts";

/** How many threads are remembered either way. */
const CAPACITY = 10_000;
/** How long "chatflow is not in this thread" is believed before asking Slack again, in ms. */
const NEGATIVE_TTL_MS = 5 * 60_000;

/**
 * Which channel threads chatflow is part of, so a reply in such a thread reaches the
 * conversation without a mention. Threads are learned from mentions and from chatflow's own
 * posts; an unknown thread (e.g. after a restart) is looked up once with
 * `conversations.replies`: chatflow is in it when the bot posted there or was mentioned.
 */
export class ThreadMembership {
  readonly #client: WebClient;
  readonly #log: Logger;
  readonly #known = new Set<string>();
  readonly #notIn = new Map<string, number>();

  constructor(client: WebClient, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  /** chatflow takes part in this thread (it was mentioned there, or posted there). */
  join(channel: string, thread: string): void {
    const key = `${channel}:${thread}`;
    this.#notIn.delete(key);
    this.#known.delete(key);
    this.#known.add(key);
    if (this.#known.size > CAPACITY) this.#known.delete(this.#known.values().next().value!);
  }

  /** Whether chatflow takes part in the thread; asks Slack about a thread it has not seen. */
  async has(channel: string, thread: string, me: SlackIdentity): Promise<boolean> {
    const key = `${channel}:${thread}`;
    if (this.#known.has(key)) return true;
    const until = this.#notIn.get(key);
    if (until !== undefined && until > Date.now()) return false;
    let member = false;
    try {
      const page = await this.#client.conversations.replies({ channel, ts: thread, limit: 200 });
      member = (page.messages ?? []).some((m) => m.bot_id === me.botId || m.user === me.userId || (m.text ?? "").includes(`<@${me.userId}>`));
    } catch (error) {
      this.#log.debug({ err: error, channel }, "could not look up a thread; taking the message as not for chatflow");
    }
    if (member) this.join(channel, thread);
    else {
      this.#notIn.set(key, Date.now() + NEGATIVE_TTL_MS);
      if (this.#notIn.size > CAPACITY) this.#notIn.delete(this.#notIn.keys().next().value!);
    }
    return member;
  }
}
