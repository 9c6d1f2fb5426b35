import { z } from "zod";

/** Routes for one adapter: which workflow handles plain messages and which handles each command. */
export /** One MCP server (src/agents/mcp.ts): started as a command (stdio), or reached at a URL (Streamable HTTP). */
const mcpServerSchema = z
  .object({
    /** Names the server in `requireApproval`, logs and an agent's `mcpServers`: letters, digits, - and _. */
    name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "1-32 letters, digits, - or _"),
    /** Stdio: the command and its arguments. */
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    /** Stdio: the names of environment variables passed on to the server (nothing else of chatflow's environment is). */
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable's name")).default([]),
    /** HTTP: the server's URL. */
    url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    /** HTTP: headers; `${NAME}` in a value is taken from the environment (secrets never go in the file). */
    headers: z.record(z.string(), z.string()).default({}),
    /** Tools that wait for a person's approval before they run: a list of tool names, or `all`. */
    requireApproval: z.union([z.literal("all"), z.array(z.string())]).default([]),
    /** Longest wait for the server to start and list its tools, or for one call, in s. Default 30. */
    timeoutSeconds: z.number().positive().default(30),
  })
  .strict()
  .refine((server) => (server.command === undefined) !== (server.url === undefined), { message: "give either command (a stdio server) or url (an HTTP server)" });

const routeSchema = z
  .object({
    /** Workflow for plain messages; `null` turns plain messages into a /help hint. */
    message: z.string().min(1).nullable().optional(),
    /** Command name (without `/`) → workflow name. */
    commands: z.record(z.string().regex(/^[a-z0-9_-]+$/, "command names are lower-case letters, digits, - or _"), z.string().min(1)).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    store: z
      .object({
        /**
         * `lowdb` (default, files under `dir`, one process), `postgres` (any number of processes on
         * one database; the connection string comes from CHATFLOW_DATABASE_URL, else DATABASE_URL,
         * never from this file) or `memory` (nothing kept across restarts).
         */
        driver: z.enum(["lowdb", "postgres", "memory"]).default("lowdb"),
        /** Data directory, relative to the working directory. Default `data`. */
        dir: z.string().min(1).default("data"),
        /** PostgreSQL: the schema chatflow's tables live in (created at start). Default `chatflow`. */
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, "a lowercase PostgreSQL identifier (letters, digits, _)")
          .default("chatflow"),
        /** PostgreSQL: connections each process keeps open (plus one for LISTEN). Default 10. */
        poolSize: z.number().int().min(1).max(100).default(10),
      })
      .strict()
      .prefault({}),
    sessions: z
      .object({
        /** Hours of inactivity after which a session is closed. Default 24. */
        maxIdleHours: z.number().positive().default(24),
      })
      .strict()
      .prefault({}),
    history: z
      .object({
        /** How many recent messages a workflow sees. Default 50. */
        window: z.number().int().min(1).max(10_000).default(50),
        /** Longest accepted message, in characters. Default 10,000. */
        maxMessageLength: z.number().int().min(1).default(10_000),
      })
      .strict()
      .prefault({}),
    tasks: z
      .object({
        /** Tasks running at once across all sessions. Default 5. */
        concurrency: z.number().int().min(1).max(1000).default(5),
        /** Longest running time of one task, in minutes (time spent waiting for people not counted). Default 30. */
        timeoutMinutes: z.number().positive().default(30),
        /** Hours a finished task is kept before cleanup. Default 24. */
        retentionHours: z.number().positive().default(24),
        /** Lease length of a running task, in seconds. Default 30. */
        leaseSeconds: z.number().positive().default(30),
        /** Retries of a step that throws a retryable error. Default 3. */
        stepRetries: z.number().int().min(0).max(20).default(3),
        /** First retry delay in ms, doubled each retry. Default 500. */
        retryBaseMs: z.number().int().min(0).default(500),
        /** A new message while a task runs: `queue` it as the next task, or `reject` it with a hint. Default `queue`. */
        busy: z.enum(["queue", "reject"]).default("queue"),
        /**
         * Tasks one person may start per minute, however they start them (a message, a command,
         * the HTTP API, a schedule they made); 0 turns the limit off. Over it, the person is told
         * how long to wait (HTTP: 429 with Retry-After). The web adapter's
         * `rateLimit.tasksPerMinute` sets its own users' limit. Default 30.
         */
        startsPerUserPerMinute: z.number().int().min(0).default(30),
      })
      .strict()
      .prefault({}),
    /** Users, as `platform:userId`, who may answer, review or cancel any task. */
    reviewers: z.array(z.string().regex(/^[a-z0-9_-]+:.+$/, "expected platform:userId, e.g. telegram:12345")).default([]),
    /** Routing: `default` applies to every adapter, a key per adapter overrides it. */
    /**
     * Routing: `default` applies to every adapter, a key per adapter overrides it. With the
     * assistant configured (`llm`, LLM_API_KEY), plain messages routed to the demo go to it.
     */
    routes: z.record(z.string(), routeSchema).default({ default: { message: "demo", commands: { demo: "demo", ask: "assistant" } } }),
    /**
     * One section per adapter, by name (`console`, `telegram`, …; see src/adapter-table.ts).
     * Each adapter validates its own section when it is enabled; here only `enabled` is read.
     */
    adapters: z
      .record(
        z.string(),
        z.looseObject({
          /** Whether the adapter runs. Default: off for createBot(); the `chatflow` command runs `console` and `web` unless this says false. */
          enabled: z.boolean().optional(),
        }),
      )
      .default({}),
    workflows: z
      .object({
        demo: z
          .object({
            /** Delay of each demo step, in ms. Default 800. */
            stepDelayMs: z.number().int().min(0).default(800),
          })
          .strict()
          .prefault({}),
        /** Workflows that run in another service over the remote contract (README, "Remote workflows"). */
        remote: z
          .array(
            z
              .object({
                /** The workflow's name, for routes and /help. */
                name: z.string().regex(/^[a-z0-9_-]{1,32}$/, "names are 1-32 lower-case letters, digits, - or _"),
                /** The service's base URL (`POST {url}/runs`, …). */
                url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL, e.g. https://workflows.example.com/api" }),
                /** Seconds between two polls of a run. Default 2. */
                pollSeconds: z.number().positive().default(2),
                /** Request headers whose values come from environment variables: header → variable, e.g. `Authorization: REPORTS_AUTH`. */
                headersFromEnv: z.record(z.string(), z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name")).default({}),
                /** One line for /help. */
                description: z.string().min(1).optional(),
              })
              .strict(),
          )
          .default([]),
      })
      // Settings of workflows added in code (createBot's `workflows`), checked by them.
      .catchall(z.unknown())
      .prefault({}),
    scheduler: z
      .object({
        /** Run schedules. Default true. */
        enabled: z.boolean().default(true),
        /** Timezone of schedules that name none (IANA). Default `UTC`. */
        timezone: z.string().min(1).default("UTC"),
        /** Most missed slots fired at start-up under the `all` policy (the latest ones). Default 10. */
        maxCatchUp: z.number().int().min(1).max(10_000).default(10),
        /** Failed posts to a gone target (403, 404, no adapter) before a schedule is paused. Default 3. */
        maxFailures: z.number().int().min(1).default(3),
        /**
         * Shortest time between two fires of a schedule made in a chat or over the API that runs a
         * workflow or has the assistant write (each fire is work, and a task counts against its
         * maker's `tasks.startsPerUserPerMinute`), in seconds; 0 for none. Schedules of this file
         * are the operator's and not bound. Default 60.
         */
        minWorkIntervalSeconds: z.number().int().min(0).default(60),
        /** Schedules kept in sync with this file (by id). */
        schedules: z
          .array(
            z
              .object({
                id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "ids are 1-64 letters, digits, - or _"),
                cron: z.string().min(1),
                timezone: z.string().min(1).optional(),
                target: z.object({ platform: z.string().min(1), channel: z.string().min(1), thread: z.string().min(1).optional() }).strict(),
                text: z.string().min(1).optional(),
                /** The assistant writes each slot's message from this instruction (needs `llm:` and LLM_API_KEY). */
                prompt: z.string().min(1).optional(),
                /** With `prompt`: the model also reads the chat's recent history. Default false. */
                withHistory: z.boolean().optional(),
                workflow: z.string().min(1).optional(),
                input: z.unknown().optional(),
                missedPolicy: z.enum(["skip", "latest", "all"]).default("skip"),
                enabled: z.boolean().default(true),
              })
              .strict()
              .refine((s) => [s.text, s.prompt, s.workflow].filter((v) => v !== undefined).length === 1, "give one of text, prompt or workflow")
              .refine((s) => s.withHistory === undefined || s.prompt !== undefined, { message: "withHistory goes with prompt", path: ["withHistory"] }),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    /**
     * The LLM behind the assistant workflow: any OpenAI-compatible chat-completions API
     * (SiliconFlow, OpenAI, Ollama, vLLM…). The key comes from LLM_API_KEY, never from this file.
     */
    llm: z
      .object({
        /** The API's base URL, e.g. `https://api.siliconflow.cn/v1`, `http://localhost:11434/v1` (Ollama). */
        baseURL: z.url({ protocol: /^https?$/, error: "expected an http(s) URL, e.g. https://api.openai.com/v1" }).optional(),
        /** The model id, e.g. `Qwen/Qwen2.5-7B-Instruct`, `gpt-4o-mini`, `llama3.1`. The assistant is off without it. */
        model: z.string().min(1).optional(),
        /** Sampling temperature, 0-2. Default 0.7. */
        temperature: z.number().min(0).max(2).default(0.7),
        /** Longest answer, in tokens. Default 1024. */
        maxTokens: z.number().int().positive().default(1024),
        /** The system prompt the model gets before the conversation. */
        systemPrompt: z.string().default("You are a helpful assistant in a chat. Answer clearly and briefly. Ask the person when you need a detail you can't infer."),
        /** Longest time one model call may take, in s. Default 60. */
        timeoutSeconds: z.number().positive().default(60),
        /** The conversation sent to the model is cut to about this many tokens (newest kept). Default 8000. */
        maxContextTokens: z.number().int().positive().default(8000),
        /** Most model calls in one answer (tool calls and their results included). Default 5. */
        maxSteps: z.number().int().min(1).max(20).default(5),
        /** MCP servers whose tools the assistant (and agents that ask for them) may call. */
        mcpServers: z.array(mcpServerSchema).default([]),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        /** Log file; `-` for stderr. Default `data/chatflow.log` (the console chat owns stdout). */
        file: z.string().min(1).default("data/chatflow.log"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** Configuration as written in a file (every field optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** Configuration after validation, with every default filled in. */
export type Config = z.output<typeof configSchema>;
