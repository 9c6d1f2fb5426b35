import { isAgent } from "./agents/define-agent.ts";
import { McpServers } from "./agents/mcp.ts";
import { limitersOf } from "./store/limits.ts";
import path from "node:path";
import { createStats } from "./stats.ts";
import type { Adapter, CommandInfo } from "./port/adapter.ts";
import { adaptersFromConfig } from "./adapter-table.ts";
import { parseConfig } from "./config/load.ts";
import type { Config, ConfigInput } from "./config/schema.ts";
import { Delivery } from "./delivery.ts";
import { Engine } from "./engine/engine.ts";
import { createHost } from "./engine/host.ts";
import type { HandleOutcome, Host, SchedulerState, StartedTask, StartTaskRequest } from "./port/host.ts";
import { startMaintenance, sweep } from "./engine/maintenance.ts";
import { routedWorkflows, routeFor } from "./engine/routes.ts";
import { Sessions } from "./engine/sessions.ts";
import { ConfigError } from "./errors.ts";
import { errorReporter, type ErrorHandler } from "./error-hook.ts";
import { EventFeed } from "./events/feed.ts";
import { withMessageEvents } from "./events/message-events.ts";
import { createLogger, type Logger } from "./logger.ts";
import type { Address, InboundEvent, Session } from "./model.ts";
import type { Page, PageRequest, SessionFilter, Store } from "./store/port.ts";
import { Answers } from "./tasks/answers.ts";
import { TaskRunner } from "./tasks/runner.ts";
import { TaskQuota } from "./tasks/quota.ts";
import { TaskStarts, workflowInput } from "./engine/task-start.ts";
import type { Workflow } from "./tasks/workflow.ts";
import { createDemoWorkflow } from "./workflows/demo.ts";
import { createAssistantWorkflow } from "./workflows/assistant/index.ts";
import { llmConfigured, llmFromConfig, llmHalfConfigured } from "./workflows/assistant/provider.ts";
import { createComposer, type Composer } from "./workflows/assistant/compose.ts";
import { createRemoteWorkflow, type RemoteWorkflowOptions } from "./workflows/remote/index.ts";
import { scheduleCommand } from "./scheduler/command.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { cronPattern } from "./scheduler/cron.ts";
import { BUILTIN_COMMANDS, type BuiltinCommand } from "./engine/commands.ts";
import { hasLeadership, hasTaskClaims } from "./store/coordination.ts";
import { LeaderGate } from "./engine/leader-gate.ts";
import { hasSignals } from "./store/signals.ts";
import { newId } from "./ids.ts";

export interface BotOptions {
  /** Configuration (validated); default: the embedded defaults. */
  config?: Config | ConfigInput;
  /** Use this store instead of the one `config.store` describes. */
  store?: Store;
  /** Use these adapters instead of the ones `config.adapters` enables. */
  adapters?: Adapter[];
  /** Workflows besides the built-in ones; a workflow with a built-in's name replaces it. */
  workflows?: Workflow<any>[];
  /** Logger; default from `config.log`. */
  logger?: Logger;
  /** Where secrets (tokens, LLM_API_KEY, remote headers) are read from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Receives every error the engine handles and logs (an inbound event that failed, a task
   * that failed, a schedule's fire, the maintenance sweep) as a BotError carrying the event or
   * task it belongs to (`error.context`) and the original error (`error.error`, also `cause`).
   * What it throws is logged; it never stops the bot. Default: the log line only.
   */
  onError?: ErrorHandler;
}

export interface Bot {
  readonly config: Config;
  /** This process: `CHATFLOW_INSTANCE_ID`, else random. Names it in task leases and /healthz. */
  readonly instanceId: string;
  readonly store: Store;
  readonly adapters: readonly Adapter[];
  /** The workflows by name: built-in, remote and given ones. */
  readonly workflows: ReadonlyMap<string, Workflow<any>>;
  /**
   * What happens in every session, durably and in order: tasks' start, progress, questions,
   * reviews, results, errors, cancels and ends, and each message that enters a history.
   */
  readonly events: EventFeed;
  readonly log: Logger;
  /** Opens the store, resumes tasks, starts the adapters. */
  start(): Promise<void>;
  /** Stops the adapters, interrupts running tasks (they resume at the next start), closes the store. */
  stop(): Promise<void>;
  /** Hands an inbound event to the engine, as an adapter does; says whether it started a task. */
  handle(event: InboundEvent): Promise<HandleOutcome>;
  /**
   * Starts a task: the one door every path uses (chat, API, schedules, tests). Validates the
   * input against the workflow's schema (ChatflowError `validation` naming the field), derives
   * the id from `key`, applies `tasks.busy` (`conflict`) and the owner's task limit (RateLimitError).
   */
  startTask(request: StartTaskRequest): Promise<StartedTask>;
  /**
   * The engine as adapters and the HTTP API see it (sessions, tasks, schedules, events, health):
   * mount the HTTP API over it with `createApi({ engine: bot.host, … })`.
   */
  readonly host: Host;
  /** Resolves when no task is running or about to run (waiting tasks don't count). */
  idle(): Promise<void>;
  /** The open session of an address (created when there is none). */
  openSession(address: Address): Promise<Session>;
  /** Sessions with filters and pages, newest activity first. */
  listSessions(filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>>;
  /** The scheduler's state, for a health endpoint: running, and each schedule's next fire. */
  schedulerState(): Promise<SchedulerState>;
  /** Removes expired tasks (and feed events past the same retention) and closes idle sessions now. */
  sweep(): Promise<{ tasksRemoved: number; sessionsClosed: number; eventsRemoved: number }>;
}

async function storeFromConfig(config: Config, log: Logger, env: NodeJS.ProcessEnv, instanceId: string): Promise<Store> {
  if (config.store.driver === "memory") {
    const { createMemoryStore } = await import("./store/memory.ts");
    return createMemoryStore();
  }
  if (config.store.driver === "postgres") {
    const { createPostgresStore, databaseUrlFromEnv } = await import("./store/postgres/index.ts");
    return createPostgresStore({ url: databaseUrlFromEnv(env), logger: log, schema: config.store.schema, poolSize: config.store.poolSize, applicationName: `chatflow ${instanceId}` });
  }
  const { createLowdbStore } = await import("./store/lowdb/index.ts");
  return createLowdbStore({ dir: path.resolve(config.store.dir), logger: log });
}

/** CHATFLOW_INSTANCE_ID (letters, digits, `.`, `_`, `-`; at most 64), else a random id. */
function instanceIdFrom(env: NodeJS.ProcessEnv): string {
  const given = env.CHATFLOW_INSTANCE_ID?.trim();
  if (!given) return `i-${newId(6)}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(given)) throw new ConfigError("CHATFLOW_INSTANCE_ID: use at most 64 letters, digits, '.', '_' or '-'.");
  return given;
}

/** With the assistant configured, plain messages routed to the demo go to the assistant instead. */
function withAssistantRoutes(config: Config, env: NodeJS.ProcessEnv): Config {
  if (!llmConfigured(config, env)) return config;
  const routes = Object.fromEntries(Object.entries(config.routes).map(([name, route]) => [name, route.message === "demo" ? { ...route, message: "assistant" } : route]));
  return { ...config, routes };
}

/** A remote workflow's options from its config entry, its header values read from the environment. */
function remoteOptions(remote: Config["workflows"]["remote"][number], env: NodeJS.ProcessEnv): RemoteWorkflowOptions {
  const headers: Record<string, string> = {};
  for (const [header, variable] of Object.entries(remote.headersFromEnv)) {
    const value = env[variable]?.trim();
    if (!value) throw new ConfigError(`workflows.remote (${remote.name}).headersFromEnv.${header}: set ${variable} in the environment.`);
    headers[header] = value;
  }
  return { name: remote.name, url: remote.url, pollSeconds: remote.pollSeconds, headers, ...(remote.description ? { description: remote.description } : {}) };
}

/** The assistant writing prompt schedules' messages, or what to set for it. */
function composerFromConfig(config: Config, env: NodeJS.ProcessEnv): { compose?: Composer; missing: string } {
  try {
    return { compose: createComposer(llmFromConfig(config, env)), missing: "" };
  } catch (error) {
    if (error instanceof ConfigError) return { missing: error.message };
    throw error;
  }
}

/** The commands the engine answers on one platform: built-ins (and /schedule), then routed workflows. */
function commandsFor(platform: string, config: Config, workflows: ReadonlyMap<string, Workflow<any>>, extra: readonly BuiltinCommand[]): CommandInfo[] {
  const builtins = [...BUILTIN_COMMANDS, ...extra].map((c): CommandInfo => ({ name: c.name, description: c.description, usage: c.usage, kind: "builtin" }));
  const routed = Object.entries(routeFor(config.routes, platform).commands).map(([name, workflow]): CommandInfo => {
    const description = workflows.get(workflow)?.description ?? `run the ${workflow} workflow`;
    return { name, description, usage: `/${name} <text>`, kind: "workflow" };
  });
  // A built-in wins over a routed command of the same name (as in the engine).
  return [...builtins, ...routed.filter((r) => !builtins.some((b) => b.name === r.name))];
}

/** Composition root: config → store → engine → adapters. */
export async function createBot(options: BotOptions = {}): Promise<Bot> {
  const env = options.env ?? process.env;
  const config = withAssistantRoutes(parseConfig(options.config ?? {}), env);
  const log = options.logger ?? createLogger(config.log);
  const report = errorReporter(log, options.onError);
  const halfConfigured = llmHalfConfigured(config, env);
  if (halfConfigured) log.warn({}, halfConfigured);
  const workflows = new Map<string, Workflow<any>>([
    ["demo", createDemoWorkflow(config.workflows.demo)],
    ["assistant", createAssistantWorkflow(config)],
  ]);
  for (const remote of config.workflows.remote) workflows.set(remote.name, createRemoteWorkflow(remoteOptions(remote, env)));
  for (const workflow of options.workflows ?? []) workflows.set(workflow.name, workflow);
  // Agents: the model `llm:` configures (for those without their own) and its MCP servers.
  const mcp = new McpServers(config.llm.mcpServers, env, log);
  const configuredModel = () => {
    const setup = llmFromConfig(config, env);
    return { model: setup.model, settings: setup.settings };
  };
  for (const workflow of workflows.values()) if (isAgent(workflow)) workflow.bind({ model: configuredModel, mcp: (choice) => mcp.tools(choice) });
  const composer = composerFromConfig(config, env);
  for (const name of routedWorkflows(config.routes)) {
    if (!workflows.has(name)) throw new ConfigError(`routes: the workflow "${name}" does not exist (known: ${[...workflows.keys()].join(", ")}).`);
  }
  config.scheduler.schedules.forEach((schedule, i) => {
    try {
      cronPattern(schedule.cron, schedule.timezone ?? config.scheduler.timezone);
    } catch (error) {
      throw new ConfigError(`scheduler.schedules[${i}] (${schedule.id}): ${(error as Error).message}`);
    }
    const workflow = schedule.workflow !== undefined ? workflows.get(schedule.workflow) : undefined;
    if (schedule.workflow !== undefined && !workflow) {
      throw new ConfigError(`scheduler.schedules[${i}].workflow: there is no workflow named "${schedule.workflow}".`);
    }
    if (workflow) {
      try {
        workflowInput(workflow, { input: schedule.input ?? {} });
      } catch (error) {
        throw new ConfigError(`scheduler.schedules[${i}].${(error as Error).message}`);
      }
    }
    if (schedule.prompt !== undefined && !composer.compose) throw new ConfigError(`scheduler.schedules[${i}].prompt: ${composer.missing}`);
  });
  // Names this process in task leases, slot claims and /healthz.
  const instanceId = instanceIdFrom(env);
  const baseStore = options.store ?? (await storeFromConfig(config, log, env, instanceId));
  const shared = hasTaskClaims(baseStore);
  const events = new EventFeed({ store: baseStore, log });
  // Every message appended to history is published as a `message` event.
  const store = withMessageEvents(baseStore, events);
  const adapters = options.adapters ?? (await adaptersFromConfig(config, env, { logger: log }));
  const stats = createStats();
  const delivery = new Delivery(adapters, log, stats);
  const sessions = new Sessions(store, config.sessions.maxIdleHours * 3600_000);
  const limiters = limitersOf(baseStore);
  const quota = new TaskQuota({ perMinute: config.tasks.startsPerUserPerMinute, setting: "tasks.startsPerUserPerMinute" }, limiters);
  const runner = new TaskRunner({
    quota,
    report,
    store,
    delivery,
    workflows,
    log,
    concurrency: config.tasks.concurrency,
    timeoutMs: config.tasks.timeoutMinutes * 60_000,
    leaseMs: config.tasks.leaseSeconds * 1000,
    stepRetries: config.tasks.stepRetries,
    retryBaseMs: config.tasks.retryBaseMs,
    historyWindow: config.history.window,
    events,
    instanceId,
    onSessionState: (sessionId, state) => {
      if (state !== "closed") void sessions.setState(sessionId, state).catch((error: unknown) => log.warn({ err: error }, "session state not saved"));
    },
  });
  const answers = new Answers(store, delivery, runner, config.reviewers, events);
  const starts = new TaskStarts({ store, sessions, runner, workflows, busy: config.tasks.busy, maxTextLength: config.history.maxMessageLength });
  const scheduler = new Scheduler({
    store,
    delivery,
    sessions,
    starts,
    log,
    timezone: config.scheduler.timezone,
    maxCatchUp: config.scheduler.maxCatchUp,
    maxFailures: config.scheduler.maxFailures,
    report,
    minWorkIntervalMs: config.scheduler.minWorkIntervalSeconds * 1000,
    ...(composer.compose ? { compose: composer.compose } : { composeMissing: composer.missing }),
    historyWindow: config.history.window,
    ...(shared ? { shared: { instanceId, slotLeaseMs: Math.max(5000, 2 * config.tasks.leaseSeconds * 1000), ...(hasSignals(baseStore) ? { signals: baseStore } : {}) } } : {}),
  });
  const workflowForCommand = (platform: string, command: string) => {
    const name = routeFor(config.routes, platform).commands[command];
    return name ? workflows.get(name) : undefined;
  };
  const extraCommands = config.scheduler.enabled ? [scheduleCommand({ scheduler, workflowForCommand })] : [];
  const engine = new Engine({ config, store, delivery, sessions, runner, answers, workflows, log, extraCommands, stats, starts, report });
  // Shared store: connections only one process may hold receive in the process that leads them.
  const receivers = hasLeadership(baseStore) ? adapters.flatMap((adapter) => (adapter.singleReceiver ? [adapter.singleReceiver] : [])) : [];
  const leaders = hasLeadership(baseStore) && receivers.length > 0 ? new LeaderGate({ leadership: baseStore, owner: instanceId, leaseMs: config.tasks.leaseSeconds * 1000, receivers, log }) : undefined;
  const host = createHost({ config, store, limiters, sessions, runner, starts, answers, scheduler, events, quota, stats, workflowNames: () => [...workflows.keys()], adapters: () => adapters, leads: () => leaders?.leads() ?? [], handle: engine.handle });
  const maintenance = { store, sessions, log, report, retentionMs: config.tasks.retentionHours * 3600_000 };
  let stopMaintenance: (() => void) | undefined;

  const bot: Bot = {
    config,
    store,
    adapters,
    events,
    workflows,
    log,
    idle: () => runner.idle(),
    instanceId,
    async start() {
      await store.open();
      await events.open({ sessionSeen: (id) => sessions.seen(id) });
      await runner.recover();
      for (const adapter of adapters) {
        const gated = leaders !== undefined && adapter.singleReceiver !== undefined;
        await adapter.start(engine.handle, { commands: commandsFor(adapter.platform, config, workflows, extraCommands), host, log, ...(gated ? { receive: false } : {}) });
      }
      await leaders?.start();
      if (config.scheduler.enabled) {
        await scheduler.start(config.scheduler.schedules.map((s) => ({ ...s, target: { ...s.target, user: "scheduler" }, origin: "config" as const })));
      }
      stopMaintenance = startMaintenance(maintenance);
      log.info({ adapters: adapters.map((a) => a.platform), store: config.store.driver }, "chatflow started");
    },
    async stop() {
      stopMaintenance?.();
      await leaders?.stop();
      await scheduler.stop();
      for (const adapter of adapters) await adapter.stop().catch((error: unknown) => log.warn({ err: error }, "adapter stop failed"));
      await runner.stop();
      await events.flush();
      events.close();
      await store.close();
      await mcp.close();
      log.info("chatflow stopped");
    },
    handle: engine.handle,
    host,
    startTask: (request) => starts.start(request),
    openSession: (address) => sessions.open(address),
    listSessions: (filter, page) => sessions.list(filter, page),
    sweep: () => sweep(maintenance),
    schedulerState: () => scheduler.state(),
  };
  return bot;
}
