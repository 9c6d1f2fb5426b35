import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { Context, Next } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import { createLogger, type Logger } from "../logger.ts";
import type { Host } from "../port/index.ts";
import type { ApiEnv } from "./access.ts";
import { authenticate, credentialOf, Unauthenticated, type AuthSettings } from "./auth.ts";
import { ApiError, describeIssues, errorResponse, unsupportedMediaType } from "./errors.ts";
import { EventStreams } from "./event-streams.ts";
import { IdempotencyKeys } from "./idempotency.ts";
import { checkJsonDepth, JSON_LIMITS_TEXT } from "./json-limits.ts";
import { Limits, type LimitSettings } from "./limits.ts";
import { cacheBody, clientAddress, headerOf } from "./node-request.ts";
import { compatRoutes, describeCompatRoutes } from "./routes/compat.ts";
// Compatibility contracts (adapters.web.compat): mounted, described and error-shaped here.
import { describeCompat, inCompatShape, mountCompat, type CompatContract } from "./compat/index.ts";
import { describeEventRoutes, eventRoutes } from "./routes/events.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { taskRoutes } from "./routes/tasks.ts";

export interface ApiOptions {
  /** The engine, through its port: `bot.host`. */
  engine: Host;
  /** Who may call it: API tokens and/or a JWT secret (`authFromEnv(process.env)`); with neither, every caller is one local user. */
  auth: AuthSettings;
  /** Where failed requests are logged: `bot.log`. Default: warnings and errors on stderr. */
  log?: Logger;
  /** The platform name of sessions made over the API. Default `web`. */
  platform?: string;
  /** Per-user and per-address limits. Default 600 requests a minute, 10 failed sign-ins a minute, tasks as the engine says. */
  limits?: LimitSettings;
  /** Largest request body, in bytes (413 above). Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Origins allowed to call the API from a browser (CORS). Default none: same origin only. */
  corsOrigins?: readonly string[];
  /** The version shown in the OpenAPI document. Default chatflow's. */
  version?: string;
  /** For the WebSocket at /api/v1/ws (the server provides it). */
  upgradeWebSocket?: UpgradeWebSocket;
  /** Where live event subscriptions are counted (the metrics read it); default a counter of its own. */
  streams?: EventStreams;
  /** Take the client's address from X-Forwarded-For (behind a reverse proxy); default false: the socket's peer. */
  trustProxy?: boolean;
  /** The old contracts to serve at their original paths (`adapters.web.compat`; src/api/compat). Default none. */
  compat?: readonly CompatContract[];
}

export const API_PREFIX = "/api/v1";

/** Defaults of the web adapter's settings (adapters/web/config.ts), for an API mounted on its own. */
function withDefaults(options: ApiOptions): Required<Pick<ApiOptions, "log" | "platform" | "limits" | "bodyLimitBytes" | "corsOrigins" | "version">> & ApiOptions {
  return {
    ...options,
    log: options.log ?? createLogger({ level: "warn", file: "-" }),
    platform: options.platform ?? "web",
    limits: options.limits ?? { requestsPerMinute: 600, failedSignInsPerMinute: 10 },
    bodyLimitBytes: options.bodyLimitBytes ?? 1_048_576,
    corsOrigins: options.corsOrigins ?? [],
    version: options.version ?? options.engine.version,
  };
}

/** Media types whose bodies are parsed as JSON: the same test as Hono's validator, so no JSON it parses escapes the depth check. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * The HTTP API over the engine's port, as a Hono app. The web adapter serves it (in its own
 * server, or as `app` to mount in yours with `listen: false`), and carries what the engine says
 * in web sessions to the event feed the API's clients follow. REST under /api/v1
 * described by /api/v1/openapi.json, the compatibility routes under /api, all authenticated
 * (API tokens or JWTs; one local user when none are configured), rate-limited per user,
 * failed sign-ins limited per client address, bodies limited in size and JSON in depth
 * (src/api/json-limits.ts). Errors are `{error, message}`, never a stack trace.
 */
export function createApi(given: ApiOptions): OpenAPIHono<ApiEnv> {
  const options = withDefaults(given);
  const { engine: host, log } = options;
  const deps = { host, platform: options.platform, idempotency: new IdempotencyKeys(host.keys) };
  const limits = new Limits(options.limits, (o) => host.keys.limiter(o));
  // Task starts are counted by the engine on every path; the API only sets its users' limit.
  if (options.limits.tasksPerMinute !== undefined) host.tasks.limitPlatform(options.platform, { perMinute: options.limits.tasksPerMinute, setting: "adapters.web.rateLimit.tasksPerMinute" });
  const streams = options.streams ?? new EventStreams();
  const reviewers = new Set(host.settings.reviewers);
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json({ error: "bad_request", message: describeIssues(result.error.issues) }, 400);
    },
  });

  // Compat: errors of a compatibility contract's paths in that contract's shape.
  const compat = options.compat ?? [];
  app.onError((error, c) => inCompatShape(c, errorResponse(c, error, (err) => log.error({ err, method: c.req.method, path: c.req.routePath }, "API request failed")), compat));
  app.notFound((c) => c.json({ error: "not_found", message: `There is no ${c.req.method} ${new URL(c.req.url).pathname}.` }, 404));

  // Compat: the chat-session contract lives under /chat; it gets the same CORS, body checks and sign-in as /api.
  const guarded = compat.includes("chat-session") ? ["/api/*", "/chat/*"] : ["/api/*"];
  if (options.corsOrigins.length > 0) for (const path of guarded) app.use(path, cors({ origin: [...options.corsOrigins], allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"], maxAge: 600 }));
  const limitBody = bodyLimit({
    maxSize: options.bodyLimitBytes,
    onError: (c) => c.json({ error: "too_large", message: `The request body is over the limit of ${options.bodyLimitBytes.toLocaleString("en-US")} bytes.` }, 413),
  });
  // Depth is checked on the text, in one pass without recursion, before anything parses it.
  const checkJson = async (c: Context<ApiEnv>, next: Next) => {
    const contentType = headerOf(c, "content-type");
    if (contentType === undefined) {
      // Without a type the validators would see no body at all, and routes an empty one.
      if ((await c.req.text()) !== "") throw unsupportedMediaType();
    } else if (JSON_MEDIA_TYPE.test(contentType.split(";")[0]!.trim())) {
      const problem = checkJsonDepth(await c.req.text());
      if (problem) throw new ApiError(400, "bad_request", problem.message);
    }
    await next();
  };
  const readBody = async (c: Context<ApiEnv>, next: Next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    // On Node the body is read from the socket at once (src/api/node-request.ts); elsewhere
    // Hono's limiter wraps the request's body stream.
    if (!(await cacheBody(c, options.bodyLimitBytes))) return limitBody(c, () => checkJson(c, next));
    await checkJson(c, next);
  };
  const signIn = async (c: Context<ApiEnv>, next: Next) => {
    if (c.req.path === `${API_PREFIX}/openapi.json`) return next();
    const address = clientAddress(c, options.trustProxy ?? false);
    await limits.signInAllowed(address);
    const credential = credentialOf(headerOf(c, "authorization"), c.req.query("access_token"));
    let id: string;
    try {
      id = await authenticate(options.auth, credential);
    } catch (error) {
      if (!(error instanceof Unauthenticated)) throw error;
      // A missing credential is a page asking whether it must sign in; a wrong one is a guess.
      if (credential !== undefined) await limits.signInFailed(address);
      throw new ApiError(401, "unauthorized", error.message, { "WWW-Authenticate": 'Bearer realm="chatflow"' });
    }
    c.set("user", { id, reviewer: reviewers.has(`${options.platform}:${id}`) });
    await limits.request(id);
    await next();
  };
  for (const path of guarded) app.use(path, readBody, signIn);

  const v1 = new OpenAPIHono<ApiEnv>({ defaultHook: app.defaultHook });
  v1.route("/", sessionRoutes(deps));
  v1.route("/", taskRoutes(deps));
  v1.route("/", scheduleRoutes(deps));
  describeEventRoutes(v1);
  // Compat: the /api/qa alias and the enabled contracts, each with its own `servers`.
  describeCompatRoutes(v1);
  describeCompat(v1, compat);
  v1.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: "An API token (CHATFLOW_API_TOKENS) or an HS256 JWT (CHATFLOW_JWT_SECRET, sub = user)." });
  v1.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "chatflow API",
      version: options.version,
      description: `Sessions, tasks, schedules and live events of a chatflow bot. Errors are JSON {error, message}. ${JSON_LIMITS_TEXT} Bodies over the body limit get 413; too many requests, or too many failed sign-ins from one address, get 429 with Retry-After.`,
    },
    servers: [{ url: API_PREFIX }],
    security: [{ bearer: [] }],
  });
  app.route(API_PREFIX, v1);
  app.route(API_PREFIX, eventRoutes(deps, streams, options.upgradeWebSocket));
  app.route("/api", compatRoutes(deps));
  allowedMethods(app);
  mountCompat(app, deps, compat, options.upgradeWebSocket);
  return app;
}

/**
 * A method a route does not take is 405 with `Allow` (RFC 9110), not a 404 that says the path
 * does not exist. The routes are read from the app once they are all registered; a pattern is
 * matched at the end of the path, so the app may be mounted under any prefix.
 */
function allowedMethods(app: OpenAPIHono<ApiEnv>): void {
  const patterns = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const entry = patterns.get(route.path) ?? { pattern: new RegExp(`${route.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_]+/g, "[^/]+")}/?$`), methods: new Set<string>() };
    entry.methods.add(route.method);
    patterns.set(route.path, entry);
  }
  app.use("*", async (c, next) => {
    await next();
    if (c.res.status !== 404 || c.req.method === "OPTIONS") return;
    const path = c.req.path;
    const allowed = new Set<string>();
    for (const { pattern, methods } of patterns.values()) if (pattern.test(path)) for (const method of methods) allowed.add(method);
    if (allowed.size === 0 || allowed.has(c.req.method)) return;
    if (allowed.has("GET")) allowed.add("HEAD");
    const allow = [...allowed].sort().join(", ");
    c.res = c.json({ error: "method_not_allowed", message: `${c.req.method} is not allowed on ${path}; use ${allow}.` }, 405, { Allow: allow });
  });
}

export type { AuthSettings } from "./auth.ts";
export { authFromEnv, authConfigured, LOCAL_USER, TOKENS_ENV, JWT_SECRET_ENV } from "./auth.ts";
export { EventStreams } from "./event-streams.ts";
export { ApiMetrics } from "./metrics.ts";
export { healthRoutes, type HealthOptions } from "./routes/health.ts";
export { MAX_CLIENT_FRAME_BYTES } from "./routes/events.ts";
export { isChatSocketPath } from "./compat/index.ts";
