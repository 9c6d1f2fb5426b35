import { id, type FakeEphemeral, type FakeMessage, type FakeView, type Json } from "./protocol.ts";

/** Who the fake workspace and its app are. */
export interface Identity {
  team: { id: string; domain: string; name: string };
  bot: { userId: string; botId: string; appId: string; name: string };
  botToken: string;
  appToken: string;
  signingSecret: string;
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  origin: string;
}

/** A trigger_id the fake issued with an interaction: usable once, within `triggerTtlMs`. */
interface Trigger {
  user: string;
  issuedAt: number;
  used: boolean;
}

/** A response_url the fake issued: 5 uses within 30 minutes (Slack's documented limits). */
export interface ResponseTarget {
  id: string;
  user: string;
  channel: string;
  issuedAt: number;
  uses: number;
  /** The message an interaction came from (replace_original / delete_original act on it). */
  message?: { ts: string; ephemeral: boolean };
  threadTs?: string;
}

/** The DM channel of the bot and a person: D + the user id without its U/W (U0ALICE → D0ALICE). */
export function dmOf(user: string): string {
  return `D${user.slice(1)}`;
}

/**
 * The workspace's state: messages by channel, ephemerals, modals, triggers, response_urls,
 * statuses. Every ts comes from nextTs() (increasing), so insertion order is ts order.
 */
export class Store {
  readonly #channels = new Map<string, Map<string, FakeMessage>>();
  /** Replies by channel and parent ts, oldest first. */
  readonly #threads = new Map<string, FakeMessage[]>();
  readonly ephemerals: FakeEphemeral[] = [];
  readonly views = new Map<string, FakeView>();
  readonly triggers = new Map<string, Trigger>();
  readonly responseTargets = new Map<string, ResponseTarget>();
  /** assistant.threads.setStatus calls, in order (an empty status clears). */
  readonly statuses: Array<{ channel: string; threadTs: string; status: string; loadingMessages?: string[]; at: number }> = [];

  add(message: FakeMessage): FakeMessage {
    let channel = this.#channels.get(message.channel);
    if (!channel) this.#channels.set(message.channel, (channel = new Map()));
    channel.set(message.ts, message);
    if (message.threadTs !== undefined && message.threadTs !== message.ts) {
      const key = `${message.channel} ${message.threadTs}`;
      this.#threads.set(key, [...(this.#threads.get(key) ?? []), message]);
      // A reply makes its parent a thread parent (thread_ts = its own ts).
      const parent = channel.get(message.threadTs);
      if (parent && parent.threadTs === undefined) parent.threadTs = parent.ts;
    }
    return message;
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.#channels.get(channel)?.get(ts);
  }

  /** Every message of a channel that isn't deleted, oldest first. */
  all(channel: string): FakeMessage[] {
    return [...(this.#channels.get(channel)?.values() ?? [])].filter((m) => !m.deleted);
  }

  /** A thread: its parent, then its replies, oldest first. */
  thread(channel: string, threadTs: string): FakeMessage[] {
    const parent = this.message(channel, threadTs);
    return [...(parent && !parent.deleted ? [parent] : []), ...this.replies(channel, threadTs)];
  }

  /** What conversations.history lists: top-level messages, thread parents, broadcast replies. */
  history(channel: string): FakeMessage[] {
    return this.all(channel).filter((m) => m.threadTs === undefined || m.threadTs === m.ts || m.broadcast);
  }

  replies(channel: string, parentTs: string): FakeMessage[] {
    return (this.#threads.get(`${channel} ${parentTs}`) ?? []).filter((m) => !m.deleted);
  }

  issueTrigger(user: string): string {
    const trigger = `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${id("t").toLowerCase()}`;
    this.triggers.set(trigger, { user, issuedAt: Date.now(), used: false });
    return trigger;
  }

  /** `ok`, or the error views.open answers: unknown → invalid_trigger_id; expired or used → expired_trigger_id. */
  useTrigger(trigger: string, ttlMs: number): "ok" | "invalid_trigger_id" | "expired_trigger_id" {
    const found = this.triggers.get(trigger);
    if (!found) return "invalid_trigger_id";
    if (found.used || Date.now() - found.issuedAt > ttlMs) return "expired_trigger_id";
    found.used = true;
    return "ok";
  }

  issueResponseUrl(target: Omit<ResponseTarget, "id" | "issuedAt" | "uses">): string {
    const key = id("R").toLowerCase();
    this.responseTargets.set(key, { ...target, id: key, issuedAt: Date.now(), uses: 0 });
    return key;
  }

  /** The message object as Slack returns it in answers, history and interaction payloads. */
  wire(message: FakeMessage, identity: Identity, options: { metadata?: boolean } = {}): Json {
    const wire: Json = { type: "message", text: message.text, ts: message.ts };
    if (message.from === "bot") {
      Object.assign(wire, { user: identity.bot.userId, bot_id: identity.bot.botId, app_id: identity.bot.appId, bot_profile: this.botProfile(identity) });
    } else if (message.from === "other-bot") {
      Object.assign(wire, { subtype: "bot_message", bot_id: message.botId, username: "another bot" });
    } else {
      wire.user = message.user;
    }
    wire.team = identity.team.id;
    if (message.blocks) wire.blocks = message.blocks;
    if (message.edits > 0 && message.from !== "other-bot") wire.edited = { user: message.user ?? identity.bot.userId, ts: message.ts };
    if (message.threadTs !== undefined) {
      wire.thread_ts = message.threadTs;
      const replies = this.replies(message.channel, message.ts);
      if (message.threadTs === message.ts) {
        Object.assign(wire, { reply_count: replies.length, reply_users_count: new Set(replies.map((r) => r.user)).size, reply_users: [...new Set(replies.map((r) => r.user))], latest_reply: replies.at(-1)?.ts ?? message.ts });
      } else {
        wire.parent_user_id = this.message(message.channel, message.threadTs)?.user;
      }
    }
    if (message.reactions.size > 0) wire.reactions = [...message.reactions].map(([name, users]) => ({ name, users: [...users], count: users.size }));
    if (options.metadata && message.metadata) wire.metadata = message.metadata;
    return wire;
  }

  botProfile(identity: Identity): Json {
    return { id: identity.bot.botId, app_id: identity.bot.appId, name: identity.bot.name, icons: {}, deleted: false, updated: 1_700_000_000, team_id: identity.team.id };
  }
}
