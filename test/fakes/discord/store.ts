import { compareIds, snowflake, type FakeChannel, type FakeGuild, type FakeMessage, type FakeModal, type FakeUser, type Json } from "./protocol.ts";
import type { FakeInteraction } from "./interactions.ts";

/**
 * What the fake Discord keeps: users, guilds, channels (guild text channels and DMs),
 * messages (ephemeral ones too, seen only by their person), interactions, modals, commands
 * and nonces; and the API shapes of users, channels and messages as Discord answers them.
 */

/** The bot's identity. */
export interface Identity {
  token: string;
  application: { id: string; flags: number; name: string };
  bot: FakeUser;
  /** `http://127.0.0.1:PORT`, once listening. */
  origin: string;
}

export class Store {
  readonly users = new Map<string, FakeUser>();
  readonly guilds = new Map<string, FakeGuild>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage>();
  readonly interactions = new Map<string, FakeInteraction>();
  /** Interaction token → interaction id (webhook routes name interactions by token). */
  readonly tokens = new Map<string, string>();
  readonly modals: FakeModal[] = [];
  /** Registered application commands: global, and per guild id. */
  readonly commands: { global: Json[]; guilds: Map<string, Json[]> } = { global: [], guilds: new Map() };
  /** `channel author nonce` → the message created with it, for enforce_nonce. */
  readonly nonces = new Map<string, { messageId: string; at: number }>();
  readonly #byChannel = new Map<string, string[]>();
  readonly #dms = new Map<string, string>();

  /** A user by id; unknown ids become a person named after the id (tests may use any snowflake). */
  user(id: string, username?: string): FakeUser {
    let user = this.users.get(id);
    if (!user) {
      user = { id, username: username ?? `user${id.slice(-4)}`, global_name: username ?? null, discriminator: "0", avatar: null, public_flags: 0, flags: 0 };
      this.users.set(id, user);
    }
    return user;
  }

  addGuild(guild: FakeGuild): FakeGuild {
    this.guilds.set(guild.id, guild);
    return guild;
  }

  addChannel(channel: FakeChannel): FakeChannel {
    this.channels.set(channel.id, { lastMessageId: null, ...channel });
    return this.channels.get(channel.id)!;
  }

  /** The DM channel with a person (opened on first use, the same one after). */
  dmChannel(userId: string): FakeChannel {
    const existing = this.#dms.get(userId);
    if (existing) return this.channels.get(existing)!;
    this.user(userId);
    const channel = this.addChannel({ id: snowflake(), type: 1, recipientId: userId });
    this.#dms.set(userId, channel.id);
    return channel;
  }

  /** Stores a new message (id and timestamp now) at the end of its channel. */
  addMessage(m: Omit<FakeMessage, "id" | "timestamp" | "editedTimestamp" | "edits" | "createdAt" | "tts"> & { tts?: boolean }): FakeMessage {
    const now = Date.now();
    const message: FakeMessage = { tts: false, ...m, id: snowflake(), timestamp: new Date(now).toISOString(), editedTimestamp: null, edits: 0, createdAt: now };
    this.messages.set(message.id, message);
    const list = this.#byChannel.get(message.channelId) ?? [];
    list.push(message.id);
    this.#byChannel.set(message.channelId, list);
    const channel = this.channels.get(message.channelId);
    if (channel && message.ephemeralTo === undefined) channel.lastMessageId = message.id;
    return message;
  }

  /** Applies an edit (content, embeds, components, flags...) and counts it. */
  edit(message: FakeMessage, changes: Partial<FakeMessage>): FakeMessage {
    Object.assign(message, changes);
    message.edits++;
    message.editedAt = Date.now();
    message.editedTimestamp = new Date(message.editedAt).toISOString();
    return message;
  }

  /** A channel's messages, oldest first: without ephemerals and deleted ones unless `all`. */
  channelMessages(channelId: string, options: { all?: boolean } = {}): FakeMessage[] {
    return (this.#byChannel.get(channelId) ?? []).map((id) => this.messages.get(id)!).filter((m) => options.all || (!m.deleted && m.ephemeralTo === undefined));
  }

  /** Messages newest first as GET /channels/:id/messages pages them (`before`, `after`, `around`, `limit`). */
  page(channelId: string, query: { limit: number; before?: string; after?: string; around?: string }): FakeMessage[] {
    const all = this.channelMessages(channelId);
    if (query.around !== undefined) {
      const index = all.findIndex((m) => compareIds(m.id, query.around!) >= 0);
      const start = Math.max(0, (index < 0 ? all.length : index) - Math.floor(query.limit / 2));
      return all.slice(start, start + query.limit).reverse();
    }
    if (query.after !== undefined) return all.filter((m) => compareIds(m.id, query.after!) > 0).slice(0, query.limit).reverse();
    const older = query.before !== undefined ? all.filter((m) => compareIds(m.id, query.before!) < 0) : all;
    return older.slice(-query.limit).reverse();
  }

  // ---- API shapes --------------------------------------------------------------------

  apiUser(user: FakeUser): Json {
    return { ...user, primary_guild: null, banner: null, accent_color: null, avatar_decoration_data: null, collectibles: null };
  }

  apiChannel(channel: FakeChannel): Json {
    if (channel.type === 1) {
      return { id: channel.id, type: 1, last_message_id: channel.lastMessageId ?? null, flags: 0, last_pin_timestamp: null, recipients: [this.apiUser(this.user(channel.recipientId!))] };
    }
    return {
      id: channel.id, type: channel.type, guild_id: channel.guildId, name: channel.name ?? "channel", position: 0, parent_id: null, topic: null, nsfw: false,
      rate_limit_per_user: 0, permission_overwrites: [], last_message_id: channel.lastMessageId ?? null, last_pin_timestamp: null, flags: 0,
    };
  }

  /** A message as the REST API answers it (MessageResponse); `gateway` adds guild_id and member as MESSAGE_CREATE carries them. */
  apiMessage(m: FakeMessage, options: { gateway?: boolean } = {}): Json {
    const interaction = m.interactionId ? this.interactions.get(m.interactionId) : undefined;
    const user = interaction ? this.apiUser(this.user(interaction.userId)) : undefined;
    return {
      type: m.type, content: m.content, mentions: [], mention_roles: [], attachments: [], embeds: m.embeds, timestamp: m.timestamp, edited_timestamp: m.editedTimestamp,
      flags: m.flags, components: m.components, id: m.id, channel_id: m.channelId, author: this.apiUser(m.author), pinned: false, mention_everyone: false, tts: m.tts,
      ...(m.nonce !== undefined ? { nonce: m.nonce } : {}),
      ...(m.webhookId ? { webhook_id: m.webhookId } : {}),
      ...(m.applicationId ? { application_id: m.applicationId } : {}),
      ...(m.messageReference ? { message_reference: m.messageReference } : {}),
      ...(interaction && user
        ? {
            interaction_metadata: { id: interaction.id, type: interaction.type, user, authorizing_integration_owners: interaction.owners, ...(interaction.name ? { name: interaction.name } : {}) },
            interaction: { id: interaction.id, type: interaction.type, name: interaction.name ?? "", user },
          }
        : {}),
      ...(options.gateway && m.guildId ? { guild_id: m.guildId } : {}),
      ...(options.gateway && m.guildId ? { member: { roles: [], joined_at: m.timestamp, deaf: false, mute: false, flags: 0 } } : {}),
    };
  }
}
