import { ALL_PERMISSIONS } from "./interactions.ts";
import type { FakeGuild, Json } from "./protocol.ts";
import type { Session } from "./gateway.ts";
import type { Identity, Store } from "./store.ts";

/**
 * Gateway dispatches about the world: READY (its guilds listed unavailable when the client
 * asked for the Guilds intent, then one GUILD_CREATE each, as Discord lazy-loads them; with
 * `guilds: []` discord.js is ready at once) and GUILD_CREATE with the guild's channels, the
 * bot's member and the @everyone role, so that discord.js caches guilds and channels.
 */

/** Gateway intents the fake looks at. */
export const INTENTS = { Guilds: 1 << 0, GuildMessages: 1 << 9, DirectMessages: 1 << 12, MessageContent: 1 << 15 } as const;

export function readyPayload(store: Store, identity: Identity, session: Session, resumeUrl: string): Json {
  const guilds = (session.intents & INTENTS.Guilds) !== 0 ? [...store.guilds.values()].map((g) => ({ id: g.id, unavailable: true })) : [];
  return {
    v: 10,
    user_settings: {},
    user: { ...store.apiUser(identity.bot), verified: true, mfa_enabled: false, email: null },
    guilds,
    presences: [],
    private_channels: [],
    relationships: [],
    guild_join_requests: [],
    geo_ordered_rtc_regions: [],
    auth: {},
    session_id: session.id,
    session_type: "normal",
    resume_gateway_url: resumeUrl,
    shard: [0, 1],
    application: { id: identity.application.id, flags: identity.application.flags },
    _trace: ['["fake-gateway"]'],
  };
}

export function guildCreatePayload(store: Store, identity: Identity, guild: FakeGuild): Json {
  const channels = [...store.channels.values()].filter((c) => c.guildId === guild.id).map((c) => store.apiChannel(c));
  return {
    id: guild.id, name: guild.name, icon: null, splash: null, discovery_splash: null, banner: null, description: null, owner_id: guild.ownerId, application_id: null,
    region: "deprecated", afk_channel_id: null, afk_timeout: 300, system_channel_id: null, system_channel_flags: 0, widget_enabled: false, verification_level: 0,
    default_message_notifications: 0, explicit_content_filter: 0, mfa_level: 0, nsfw_level: 0, premium_tier: 0, premium_subscription_count: 0, premium_progress_bar_enabled: false,
    preferred_locale: "en-US", rules_channel_id: null, public_updates_channel_id: null, safety_alerts_channel_id: null, vanity_url_code: null, max_members: 500_000,
    max_video_channel_users: 25, max_stage_video_channel_users: 50, features: [], hub_type: null, incidents_data: null, latest_onboarding_question_id: null,
    joined_at: "2024-01-01T00:00:00.000000+00:00", large: false, lazy: true, unavailable: false, member_count: 3, version: Date.now(),
    roles: [{ id: guild.id, name: "@everyone", permissions: ALL_PERMISSIONS, position: 0, color: 0, colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false, managed: false, mentionable: false, icon: null, unicode_emoji: null, flags: 0 }],
    members: [{ user: store.apiUser(identity.bot), roles: [], joined_at: "2024-01-01T00:00:00.000000+00:00", deaf: false, mute: false, flags: 0, nick: null, avatar: null, banner: null, pending: false, premium_since: null, communication_disabled_until: null }],
    channels, threads: [], presences: [], voice_states: [], emojis: [], stickers: [], stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [], embedded_activities: [], activity_instances: [],
  };
}
