import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { UpgradeWebSocket } from "hono/ws";
import type { Bot } from "../app.ts";
import type { ApiEnv } from "./access.ts";
import { authenticate, credentialOf, Unauthenticated, type AuthSettings } from "./auth.ts";
import { ApiError, describeIssues, errorResponse } from "./errors.ts";
import { Limits, type LimitSettings } from "./limits.ts";
import { cacheBody, headerOf } from "./node-request.ts";
import { compatRoutes } from "./routes/compat.ts";
import { describeEventRoutes, eventRoutes } from "./routes/events.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { taskRoutes } from "./routes/tasks.ts";

export interface ApiOptions {
  bot: Bot;
  /** The platform name of sessions made over the API (the web adapter's, `web`). */
  platform: string;
  auth: AuthSettings;
  limits: LimitSettings;
  /** Largest request body, in bytes (413 above). */
  bodyLimitBytes: number;
  /** Origins allowed to call the API from a browser (CORS); none: same origin only. */
  corsOrigins: readonly string[];
  /** The package version, in /healthz and the OpenAPI document. */
  version: string;
  /** For the WebSocket at /api/v1/ws (the server provides it). */
  upgradeWebSocket?: UpgradeWebSocket;
}

export const API_PREFIX = "/api/v1";

/**
 * The HTTP API over a Bot, as a Hono app (the web adapter serves it): REST under /api/v1
 * described by /api/v1/openapi.json, the compatibility routes under /api, all authenticated
 * (API tokens or JWTs; one local user when none are configured), rate-limited per user and
 * body-limited. Errors are `{error, message}`, never a stack trace.
 */
export function createApi(options: ApiOptions): OpenAPIHono<ApiEnv> {
  const { bot } = options;
  const deps = { bot, platform: options.platform };
  const limits = new Limits(options.limits);
  const reviewers = new Set(bot.config.reviewers);
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json({ error: "bad_request", message: describeIssues(result.error.issues) }, 400);
    },
  });

  app.onError((error, c) => errorResponse(c, error, (err) => bot.log.error({ err, method: c.req.method, path: c.req.routePath }, "API request failed")));
  app.notFound((c) => c.json({ error: "not_found", message: `There is no ${c.req.method} ${new URL(c.req.url).pathname}.` }, 404));

  if (options.corsOrigins.length > 0) app.use("/api/*", cors({ origin: [...options.corsOrigins], allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"], maxAge: 600 }));
  const limitBody = bodyLimit({
    maxSize: options.bodyLimitBytes,
    onError: (c) => c.json({ error: "too_large", message: `The request body is over the limit of ${options.bodyLimitBytes.toLocaleString("en-US")} bytes.` }, 413),
  });
  app.use("/api/*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    // On Node the body is read from the socket at once (src/api/node-request.ts); elsewhere
    // Hono's limiter wraps the request's body stream.
    if (!(await cacheBody(c, options.bodyLimitBytes))) return limitBody(c, next);
    await next();
  });
  app.use("/api/*", async (c, next) => {
    if (c.req.path === `${API_PREFIX}/openapi.json`) return next();
    let id: string;
    try {
      id = await authenticate(options.auth, credentialOf(headerOf(c, "authorization"), c.req.query("access_token")));
    } catch (error) {
      if (error instanceof Unauthenticated) throw new ApiError(401, "unauthorized", error.message, { "WWW-Authenticate": 'Bearer realm="chatflow"' });
      throw error;
    }
    c.set("user", { id, reviewer: reviewers.has(`${options.platform}:${id}`) });
    await limits.request(id);
    await next();
  });

  const v1 = new OpenAPIHono<ApiEnv>({ defaultHook: app.defaultHook });
  v1.route("/", sessionRoutes(deps, limits));
  v1.route("/", taskRoutes(deps, limits));
  v1.route("/", scheduleRoutes(deps));
  describeEventRoutes(v1);
  v1.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: "An API token (CHATFLOW_API_TOKENS) or an HS256 JWT (CHATFLOW_JWT_SECRET, sub = user)." });
  v1.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "chatflow API", version: options.version, description: "Sessions, tasks, schedules and live events of a chatflow bot." },
    servers: [{ url: API_PREFIX }],
    security: [{ bearer: [] }],
  });
  app.route(API_PREFIX, v1);
  app.route(API_PREFIX, eventRoutes(deps, options.upgradeWebSocket));
  app.route("/api", compatRoutes(deps, limits));
  return app;
}

export type { AuthSettings } from "./auth.ts";
export { authFromEnv, authConfigured, LOCAL_USER, TOKENS_ENV, JWT_SECRET_ENV } from "./auth.ts";
