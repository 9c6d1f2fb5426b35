import type { WebClient } from "@slack/web-api";
import { NotFoundError } from "../../src/errors.ts";
import type { Address, OutboundMessage, SentMessage } from "../../src/model.ts";
import type { ActionValues } from "./action-values.ts";
import { toChatflowError } from "./errors.ts";
import { escapeMrkdwn } from "./mrkdwn.ts";
import type { SlackPacing } from "./pacing.ts";
import type { CommandInFlight } from "./private-replies.ts";
import { renderEdit, renderMessage, type SlackMessage } from "./render.ts";

/** The `metadata.event_type` of chatflow's posts; `event_payload.key` holds the engine's key. */
export const METADATA_EVENT = "chatflow_message";
/** How far back `recall` looks for a post, in messages. */
const RECALL_DEPTH = 200;

export interface OutboundOptions {
  client: WebClient;
  pacing: SlackPacing;
  values: ActionValues;
  /** The bot's id (`B…`): recall only trusts the bot's own posts. */
  botId: () => string | undefined;
  /** Tokens, removed from error messages. */
  secrets: readonly string[];
}

/** Posts, edits, ephemeral notices and private answers to slash commands, and recall, in Block Kit; failures as chatflow errors. */
export class SlackOutbound {
  readonly #o: OutboundOptions;
  /** Drafts of reviews posted by this process, by message ts: the Edit modal starts from them. */
  readonly drafts = new Map<string, string>();

  constructor(options: OutboundOptions) {
    this.#o = options;
  }

  /**
   * Posts a message in the address's thread (or the conversation), as several messages when
   * it outgrows one (the buttons on the last). Carries the engine's key as message metadata,
   * for `recall`. Returns the last message's ts.
   */
  async send(address: Address, message: OutboundMessage): Promise<SentMessage> {
    const parts = renderMessage(message, (id) => this.#o.values.encode(id));
    let last = "";
    for (const [index, part] of parts.entries()) {
      const key = message.key && index === parts.length - 1 ? message.key : undefined;
      last = await this.#post(address, part, key);
    }
    if (message.review && last) this.#remember(last, message.review.data);
    return { id: last };
  }

  /** Updates a message in place (chat.update), paced across the workspace; without actions the buttons go. */
  async edit(address: Address, messageId: string, message: OutboundMessage): Promise<void> {
    if (!/^\d+\.\d+$/.test(messageId)) throw new NotFoundError(`"${messageId}" is not a Slack message ts.`);
    const part = renderEdit(message, (id) => this.#o.values.encode(id));
    await this.#o.pacing.update(`${address.channel}:${messageId}`, () =>
      this.#call("chat.update", address.channel, () => this.#o.client.chat.update({ channel: address.channel, ts: messageId, text: part.text, blocks: part.blocks as never })).then(() => undefined),
    );
  }

  /**
   * A notice only `address.user` sees: in answer to a slash command on its response_url (see
   * `answerPrivately`), else in the address's thread (chat.postEphemeral).
   */
  async ephemeral(address: Address, text: string, command?: CommandInFlight): Promise<void> {
    const part = { text: escapeMrkdwn(text), blocks: [] };
    if (command) await this.#privately(command, part);
    else await this.#postEphemeral(address, part);
  }

  /**
   * Answers a slash command so that only the person who typed it sees the answer: each part on
   * the command's response_url as an ephemeral message, which works in any conversation, also
   * one the bot is not in. Where the response_url fails (its five uses spent, say), with
   * chat.postEphemeral. Never in the channel. Ephemeral messages have no ts to return.
   */
  async answerPrivately(command: CommandInFlight, message: OutboundMessage): Promise<SentMessage> {
    for (const part of renderMessage(message, (id) => this.#o.values.encode(id))) await this.#privately(command, part);
    return { id: `ephemeral:${command.event.id}` };
  }

  async #privately(command: CommandInFlight, part: SlackMessage): Promise<void> {
    try {
      await command.respond({ response_type: "ephemeral", replace_original: false, text: part.text, ...(part.blocks.length > 0 ? { blocks: part.blocks } : {}) });
    } catch {
      await this.#postEphemeral(command.event.address, part);
    }
  }

  async #postEphemeral(address: Address, part: SlackMessage): Promise<void> {
    await this.#call("chat.postEphemeral", address.channel, () =>
      this.#o.client.chat.postEphemeral({
        channel: address.channel,
        user: address.user,
        text: part.text,
        ...(part.blocks.length > 0 ? { blocks: part.blocks as never } : {}),
        ...(address.thread ? { thread_ts: address.thread } : {}),
      }),
    );
  }

  /** Opens a modal (views.open) with a press's `trigger_id`, which lives 3 s. */
  async openView(triggerId: string, view: Record<string, unknown>): Promise<void> {
    await this.#call("views.open", undefined, () => this.#o.client.views.open({ trigger_id: triggerId, view: view as never }));
  }

  /** The post with the engine's `key` among the conversation's (or thread's) recent messages, if the bot made it. */
  async recall(address: Address, key: string): Promise<SentMessage | undefined> {
    const { client } = this.#o;
    const page = await this.#call(address.thread ? "conversations.replies" : "conversations.history", address.channel, () =>
      address.thread
        ? client.conversations.replies({ channel: address.channel, ts: address.thread, include_all_metadata: true, limit: RECALL_DEPTH })
        : client.conversations.history({ channel: address.channel, include_all_metadata: true, limit: RECALL_DEPTH }),
    );
    const botId = this.#o.botId();
    const found = (page.messages ?? []).find((m) => {
      const metadata = m.metadata as { event_type?: string; event_payload?: { key?: unknown } } | undefined;
      return metadata?.event_type === METADATA_EVENT && metadata.event_payload?.key === key && (botId === undefined || m.bot_id === botId);
    });
    return found?.ts ? { id: found.ts } : undefined;
  }

  async #post(address: Address, part: SlackMessage, key: string | undefined): Promise<string> {
    const { client, pacing } = this.#o;
    const sent = await pacing.post(address.channel, () =>
      this.#call("chat.postMessage", address.channel, () =>
        client.chat.postMessage({
          channel: address.channel,
          text: part.text,
          blocks: part.blocks as never,
          unfurl_links: false,
          unfurl_media: false,
          ...(address.thread ? { thread_ts: address.thread } : {}),
          ...(key ? { metadata: { event_type: METADATA_EVENT, event_payload: { key } } } : {}),
        }),
      ),
    );
    return String(sent.ts ?? "");
  }

  #remember(ts: string, draft: string): void {
    this.drafts.set(ts, draft);
    // Bounded: the oldest drafts go first (the modal then starts from the message's text).
    if (this.drafts.size > 1000) this.drafts.delete(this.drafts.keys().next().value!);
  }

  async #call<T>(method: string, channel: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toChatflowError(error, { method, ...(channel ? { channel } : {}), secrets: this.#o.secrets });
    }
  }
}
