import { z } from "zod";

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
    rateLimit: z
      .object({
        /** API requests per user per minute. Default 600. */
        requestsPerMinute: z.number().int().min(1).default(600),
        /** Tasks a user may start per minute. Default 30. */
        tasksPerMinute: z.number().int().min(1).default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type WebConfig = z.output<typeof webConfigSchema>;
