import { interactionToken, snowflake, type FakeChannel, type FakeModal, type FakeUser, type Json } from "./protocol.ts";
import type { Identity, Store } from "./store.ts";

/**
 * Interactions as the fake keeps them, and their INTERACTION_CREATE payloads shaped as
 * Discord sends them (see payloads/): `application_id`, `token`, a `channel` object (discord.js
 * 14.28 ignores `channel_id` alone), `entitlements`, `member` in guilds or `user` in DMs,
 * `app_permissions`, `authorizing_integration_owners`, `context`, `locale`, `version: 1`.
 */

/** An interaction the fake created (a person used a command, pressed a button, submitted a modal). */
export interface FakeInteraction {
  id: string;
  token: string;
  /** 2 APPLICATION_COMMAND, 3 MESSAGE_COMPONENT, 5 MODAL_SUBMIT. */
  type: number;
  /** The command's name (application commands), shown in the response's interaction metadata. */
  name?: string;
  userId: string;
  channelId: string;
  guildId?: string;
  /** authorizing_integration_owners. */
  owners: Record<string, string>;
  /** When the person acted: the 3 s and 15 min windows count from here (ms since the epoch). */
  createdAt: number;
  /** The INTERACTION_CREATE `d`, as dispatched. */
  payload: Json;
  /** The accepted callback's type. */
  responseType?: number;
  /** The message `@original` names: the reply (types 4, 5) or the component's message (6, 7). */
  originalId?: string;
  /** The message the component was on (presses; modal submits from a button). */
  messageId?: string;
  /** Follow-up message ids, in order. */
  followups: string[];
  /** The modal the app answered with (callback type 9). */
  modal?: FakeModal;
}

/** Permissions of people (and of the app: `app_permissions`) in the fake's guilds: everything but Administrator. */
export const ALL_PERMISSIONS = ((1n << 51n) - 1n - 8n).toString();

export interface Where {
  user: FakeUser;
  channel: FakeChannel;
}

/** Creates, stores and returns an interaction with its payload (not dispatched yet). */
export function createInteraction(store: Store, identity: Identity, type: number, where: Where, data: Json, extra: Json = {}, name?: string): FakeInteraction {
  const id = snowflake();
  const token = interactionToken(id);
  const { user, channel } = where;
  const guildId = channel.guildId;
  const owners: Record<string, string> = { "0": guildId ?? "0" };
  const payload: Json = {
    app_permissions: ALL_PERMISSIONS,
    application_id: identity.application.id,
    attachment_size_limit: 10_485_760,
    authorizing_integration_owners: owners,
    channel: guildId ? { ...store.apiChannel(channel), permissions: ALL_PERMISSIONS } : store.apiChannel(channel),
    channel_id: channel.id,
    context: guildId ? 0 : 1,
    data,
    entitlements: [],
    id,
    locale: "en-US",
    token,
    type,
    version: 1,
    ...(guildId
      ? { guild: { id: guildId, locale: "en-US", features: [] }, guild_id: guildId, guild_locale: "en-US", member: memberOf(store, user) }
      : { user: store.apiUser(user) }),
    ...extra,
  };
  const interaction: FakeInteraction = { id, token, type, userId: user.id, channelId: channel.id, owners, createdAt: Date.now(), payload, followups: [], ...(guildId ? { guildId } : {}), ...(name ? { name } : {}) };
  store.interactions.set(id, interaction);
  store.tokens.set(token, id);
  return interaction;
}

/** A guild member object for a person (every permission but Administrator, no roles). */
export function memberOf(store: Store, user: FakeUser): Json {
  return {
    avatar: null, banner: null, communication_disabled_until: null, deaf: false, flags: 0, joined_at: "2024-01-01T00:00:00.000000+00:00", mute: false, nick: null,
    pending: false, permissions: ALL_PERMISSIONS, premium_since: null, roles: [], unusual_dm_activity_until: null, user: store.apiUser(user),
  };
}

/** Option types by JavaScript value, for options of commands the fake doesn't know. */
const guessType = (value: unknown): number => (typeof value === "boolean" ? 5 : typeof value === "number" ? (Number.isInteger(value) ? 4 : 10) : 3);

/**
 * A slash command's `data.options` from plain values, typed as the registered command says
 * (`{ subcommand: "add", options: { cron: "0 9 * * *" } }` → `[{ type: 1, name: "add", options: [{ type: 3, name: "cron", value: "0 9 * * *" }] }]`).
 * User options (type 6) resolve the user in `resolved.users`.
 */
export function commandOptions(store: Store, command: Json | undefined, o: { group?: string; subcommand?: string; options?: Record<string, unknown> }): { options: Json[]; resolved?: Json } {
  let level = (command?.options as Json[] | undefined) ?? [];
  const path: Array<{ type: number; name: string }> = [];
  for (const [name, type] of [[o.group, 2], [o.subcommand, 1]] as const) {
    if (name === undefined) continue;
    const found = level.find((opt) => opt.name === name && opt.type === type);
    if (command && !found) throw new Error(`/${String(command.name)} has no ${type === 2 ? "subcommand group" : "subcommand"} "${name}"; it has ${level.map((opt) => opt.name).join(", ") || "no options"}.`);
    path.push({ type, name });
    level = (found?.options as Json[] | undefined) ?? [];
  }
  const users: Json = {};
  const values: Json[] = Object.entries(o.options ?? {}).map(([name, value]) => {
    const declared = level.find((opt) => opt.name === name);
    if (command && !declared) throw new Error(`/${String(command.name)} has no option "${name}" here; it has ${level.map((opt) => opt.name).join(", ") || "none"}.`);
    const type = (declared?.type as number | undefined) ?? guessType(value);
    if (type === 6) users[String(value)] = store.apiUser(store.user(String(value)));
    return { name, type, value };
  });
  for (const required of level.filter((opt) => opt.required === true && opt.type !== 1 && opt.type !== 2)) {
    if (!(String(required.name) in (o.options ?? {}))) throw new Error(`/${String(command?.name)}: the required option "${String(required.name)}" is missing (Discord's client won't send the command without it).`);
  }
  let options = values;
  for (const step of path.reverse()) options = [{ type: step.type, name: step.name, options }];
  return { options, ...(Object.keys(users).length > 0 ? { resolved: { users } } : {}) };
}

/**
 * A modal submission's `data.components` as Discord sends them for the modal the app opened:
 * a Label (type 18) → `{ type: 18, id, component: { type, id, custom_id, value | values } }`;
 * a legacy action row → `{ type: 1, id, components: [{ type: 4, id, custom_id, value }] }`;
 * a Text Display → `{ type: 10, id }`. Text inputs not given keep their prefilled `value` or "".
 */
export function submittedComponents(modal: FakeModal, values: Record<string, string | string[]>): Json[] {
  const given = new Set(Object.keys(values));
  const field = (c: Json): Json => {
    const customId = String(c.custom_id);
    given.delete(customId);
    const value = values[customId];
    if (c.type === 4) {
      const text = typeof value === "string" ? value : typeof c.value === "string" ? c.value : "";
      if (c.required !== false && text === "") throw new Error(`The modal's text input "${customId}" is required: a person can't submit it empty.`);
      const max = typeof c.max_length === "number" ? c.max_length : 4000;
      const min = typeof c.min_length === "number" ? c.min_length : 0;
      if ([...text].length > max || (text !== "" && [...text].length < min)) throw new Error(`The modal's text input "${customId}" takes ${min}–${max} characters (Discord's client enforces it); got ${[...text].length}.`);
      return { type: 4, id: c.id, custom_id: customId, value: text };
    }
    return { type: c.type, id: c.id, custom_id: customId, values: Array.isArray(value) ? value : value === undefined ? [] : [value] };
  };
  const components = modal.components.map((top): Json => {
    if (top.type === 18) return { type: 18, id: top.id, component: field(top.component as Json) };
    if (top.type === 1) return { type: 1, id: top.id, components: ((top.components as Json[]) ?? []).map(field) };
    return { type: top.type, id: top.id };
  });
  if (given.size > 0) throw new Error(`The modal "${modal.customId}" has no field ${[...given].join(", ")}.`);
  return components;
}
