import { checkCommands, storedCommands } from "./commands.ts";
import type { Json } from "./protocol.ts";
import { RestError, type RestContext, type RestRequest, type Route } from "./rest.ts";

/** The bot's own routes: the gateway's address, its user and application, and application commands (global and per guild). */

function appOf(ctx: RestContext, req: RestRequest): void {
  // Discord answers a foreign application id with 403 Missing Access.
  if (req.params.app !== ctx.identity.application.id) throw new RestError(50001);
}

function guildOf(ctx: RestContext, req: RestRequest): string {
  appOf(ctx, req);
  if (!ctx.store.guilds.has(req.params.guild!)) throw new RestError(50001);
  return req.params.guild!;
}

export const appRoutes: Route[] = [
  {
    method: "GET", template: "/gateway/bot", spec: "GET /gateway/bot", auth: "bot",
    handler: (ctx) => ({
      status: 200,
      body: { url: ctx.gatewayUrl(), shards: 1, session_start_limit: { total: 1000, remaining: Math.max(0, 1000 - ctx.identifies()), reset_after: 14_400_000, max_concurrency: 1 } },
    }),
  },
  {
    method: "GET", template: "/users/@me", spec: "GET /users/@me", auth: "bot",
    handler: (ctx) => ({ status: 200, body: { ...ctx.store.apiUser(ctx.identity.bot), mfa_enabled: false, locale: "en-US", verified: true, email: null } }),
  },
  {
    method: "GET", template: "/users/:user", spec: "GET /users/{user_id}", auth: "bot",
    handler: (ctx, req) => {
      const user = ctx.store.users.get(req.params.user!);
      if (!user) throw new RestError(10013);
      return { status: 200, body: ctx.store.apiUser(user) };
    },
  },
  {
    method: "GET", template: "/applications/@me", spec: "GET /applications/@me", auth: "bot",
    handler: (ctx) => {
      const app = ctx.identity.application;
      const owner = ctx.store.apiUser(ctx.store.user("1300000000000000999", "owner"));
      return {
        status: 200,
        body: {
          id: app.id, name: app.name, icon: null, description: "", type: null, verify_key: "0".repeat(64), flags: app.flags, flags_new: String(app.flags), redirect_uris: [],
          interactions_endpoint_url: null, role_connections_verification_url: null, owner, approximate_guild_count: ctx.store.guilds.size, approximate_user_install_count: 0,
          approximate_user_authorization_count: 0, explicit_content_filter: 0, team: null, eligible_oauth2_scopes: ["bot", "applications.commands"], bot: ctx.store.apiUser(ctx.identity.bot),
          bot_public: true, bot_require_code_grant: false, tags: [], integration_types_config: { "0": {} },
        },
      };
    },
  },
  {
    method: "GET", template: "/applications/:app/commands", spec: "GET /applications/{application_id}/commands", auth: "bot",
    handler: (ctx, req) => {
      appOf(ctx, req);
      return { status: 200, body: ctx.store.commands.global };
    },
  },
  {
    method: "PUT", template: "/applications/:app/commands", spec: "PUT /applications/{application_id}/commands", auth: "bot",
    limits: checkCommands,
    handler: (ctx, req) => {
      appOf(ctx, req);
      const stored = storedCommands((req.body as Json[] | null) ?? [], ctx.store.commands.global, ctx.identity.application.id);
      ctx.store.commands.global.splice(0, Infinity, ...stored);
      return { status: 200, body: stored };
    },
  },
  {
    method: "GET", template: "/applications/:app/guilds/:guild/commands", spec: "GET /applications/{application_id}/guilds/{guild_id}/commands", auth: "bot",
    handler: (ctx, req) => ({ status: 200, body: ctx.store.commands.guilds.get(guildOf(ctx, req)) ?? [] }),
  },
  {
    method: "PUT", template: "/applications/:app/guilds/:guild/commands", spec: "PUT /applications/{application_id}/guilds/{guild_id}/commands", auth: "bot",
    limits: checkCommands,
    handler: (ctx, req) => {
      const guild = guildOf(ctx, req);
      const stored = storedCommands((req.body as Json[] | null) ?? [], ctx.store.commands.guilds.get(guild) ?? [], ctx.identity.application.id, guild);
      ctx.store.commands.guilds.set(guild, stored);
      return { status: 200, body: stored };
    },
  },
];
