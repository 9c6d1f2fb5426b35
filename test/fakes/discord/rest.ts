import { discordError, type DiscordError, type FakeMessage, type Json, type RecordedCall } from "./protocol.ts";
import type { Problem } from "./schema.ts";
import type { DiscordSpec } from "./spec.ts";
import type { Identity, Store } from "./store.ts";

/** What the REST route handlers (rest-app.ts, rest-channels.ts, rest-interactions.ts) share. */

export interface RestOptions {
  /** How long after the person acted an interaction takes its first callback (Discord: 3 s). */
  interactionDeadlineMs: number;
  /** How long an interaction token works for webhooks (Discord: 15 min). */
  tokenLifetimeMs: number;
  /** How long a nonce with `enforce_nonce` returns the first message (Discord: "a few minutes"; the fake: 5 min). */
  nonceWindowMs: number;
}

/** Channel ids the bot can't see (50001), can't write to (50013), and people who don't take DMs from the bot (50007). */
export interface Access {
  missingAccess: ReadonlySet<string>;
  missingPermissions: ReadonlySet<string>;
  dmsClosed: ReadonlySet<string>;
}

export interface RestContext {
  store: Store;
  access: Access;
  identity: Identity;
  spec: DiscordSpec;
  options: RestOptions;
  violation(text: string): void;
  /** A message the bot made in a channel: MESSAGE_CREATE to the bot if its intents ask for it. */
  echo(message: FakeMessage): void;
  /** Gateway sessions started (identifies), for session_start_limit. */
  identifies(): number;
  /** `ws://127.0.0.1:PORT`. */
  gatewayUrl(): string;
}

export interface RestRequest {
  route: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  call: RecordedCall;
}

export interface RestAnswer {
  status: number;
  body?: unknown;
}

/** Thrown by handlers: answered as Discord's error `{message, code}` with its status. */
export class RestError extends Error {
  readonly error: DiscordError;
  constructor(code: number, extra: Partial<DiscordError> = {}) {
    const error = discordError(code, extra);
    super(`${error.code} ${error.message}`);
    this.error = error;
  }
}

export interface Route {
  method: string;
  template: string;
  /** The operation in the vendored spec, e.g. `POST /channels/{channel_id}/messages`. */
  spec: string;
  /** `bot`: needs `Authorization: Bot <token>`; `none`: webhook and interaction routes. */
  auth: "bot" | "none";
  /** Limits beyond the spec (limits.ts) for a body. */
  limits?: (body: unknown) => Problem[];
  handler(ctx: RestContext, req: RestRequest): RestAnswer;
}

/** `METHOD template`, the route's name in calls, failure rules and rate limits. */
export const routeName = (route: Route): string => `${route.method} ${route.template}`;

/** The JSON body as an object (handlers run after validation, so a wrong shape was already refused). */
export const bodyOf = (req: RestRequest): Json => (req.body !== null && typeof req.body === "object" && !Array.isArray(req.body) ? (req.body as Json) : {});
