import { z } from "zod";

/**
 * How long an idle keep-alive connection is kept by default, in ms: above the idle timeouts
 * of common load balancers and proxies (an AWS ALB's 60 s, nginx's upstream keepalive 60 s).
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** The `adapters.web` section: the HTTP server with the chat page, the API, events, health and metrics. */
export const webConfigSchema = z
  .object({
    /** Whether the web server runs. Default true. */
    enabled: z.boolean().default(true),
    /** Interface to bind. Default `127.0.0.1` (this machine only); any other needs CHATFLOW_API_TOKENS or CHATFLOW_JWT_SECRET. */
    host: z.string().min(1).default("127.0.0.1"),
    /** Port; 0 picks a free one. Default 3000. */
    port: z.number().int().min(0).max(65535).default(3000),
    /** A path prefix when served behind a proxy under a sub-path, e.g. `/chat`. Default none. */
    basePath: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, "a path like /chat (no trailing slash), or empty")
      .default(""),
    /** Browser origins allowed to call the API (CORS), e.g. `https://app.example.com`. Default: same origin only. */
    corsOrigins: z.array(z.url()).default([]),
    /** Largest request body in bytes; larger ones get 413. Default 1 MiB. */
    bodyLimitBytes: z.number().int().min(1024).default(1_048_576),
    /**
     * Time a client has to send a whole request (headers and body), in ms; then 408 and the
     * connection is closed, so a body announced longer than it is can't hold a connection
     * (Node's default is 5 minutes). Event streams are not affected (they are responses).
     * Default 30 s.
     */
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Time a client has to send a request's headers, in ms (at most requestTimeoutMs). Default 10 s. */
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    /**
     * How long an idle keep-alive connection stays open after its last response, in ms. It must
     * be longer than the idle timeout of any load balancer or proxy in front: a balancer reuses
     * its idle connections, and one the server has just closed fails the request it carried (a
     * 502). Node's own default is 5 s; an AWS ALB keeps idle connections 60 s, Google Cloud's
     * load balancers 600 s (set 620000 there). It does not count against headersTimeoutMs,
     * which Node starts at each request's first byte. Default 65 s.
     */
    keepAliveTimeoutMs: z.number().int().min(1000).max(7_200_000).default(DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
    /**
     * Behind a reverse proxy: take the client's address from the last X-Forwarded-For entry
     * (for the failed sign-in limit). Only with a proxy that sets it; otherwise every client
     * could pick its own address. Default false: the connection's address.
     */
    trustProxy: z.boolean().default(false),
    /**
     * Whether a port that is taken stops the bot's start. False: the bot starts without the web
     * chat and says why (the \`chatflow\` command sets this when the web runs only by default,
     * so a busy port 3000 never takes the console chat down with it). Default true.
     */
    required: z.boolean().default(true),
    /**
     * The old contracts to serve, at their original paths, for the clients of the systems
     * chatflow replaces (README, "Compatibility routes"): `qa-async` (`/api/v2/chat/qa…`),
     * `simple-chat` (`/api/chat`, `/api/history`, `/api/health`), `chat-session` (`/chat/session/…`,
     * `/chat/message/history`, `/chat/interrupt` and the WebSocket `/chat/{flow_id}`). Same
     * authentication as the rest of the API. Routes of contracts not listed are 404. Default [].
     */
    compat: z.array(z.enum(["qa-async", "simple-chat", "chat-session"])).default([]),
    rateLimit: z
      .object({
        /** API requests per user per minute. Default 600. */
        requestsPerMinute: z.number().int().min(1).default(600),
        /**
         * Tasks a web user may start per minute, however they start them (POST /tasks, a message
         * or command in a session, a schedule they made); 0 for no limit. Default: the engine's
         * `tasks.startsPerUserPerMinute` (30).
         */
        tasksPerMinute: z.number().int().min(0).optional(),
        /**
         * Failed sign-ins (a wrong token or JWT) per client address per minute; past it, that
         * address gets 429 with Retry-After before its credential is even checked, so tokens
         * can't be guessed at speed. Default 10.
         */
        failedSignInsPerMinute: z.number().int().min(1).default(10),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => c.headersTimeoutMs <= c.requestTimeoutMs, { message: "must be at most requestTimeoutMs", path: ["headersTimeoutMs"] });

export type WebConfig = z.output<typeof webConfigSchema>;
/** The section as written: every field optional, nested ones too (defaults fill them). */
export type WebConfigInput = z.input<typeof webConfigSchema>;
