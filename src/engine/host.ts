import type { LimiterFactory } from "../store/limits.ts";
import type { Adapter } from "../port/adapter.ts";
import { hasTaskClaims } from "../store/coordination.ts";
import type { Config } from "../config/schema.ts";
import type { EventFeed } from "../events/feed.ts";
import { sessionKey } from "../model.ts";
import type { Host, HandleOutcome } from "../port/host.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import type { EngineStats } from "../stats.ts";
import type { Store } from "../store/port.ts";
import type { Answers } from "../tasks/answers.ts";
import type { TaskQuota } from "../tasks/quota.ts";
import type { TaskRunner } from "../tasks/runner.ts";
import { chatflowVersion } from "../version.ts";
import type { InboundEvent } from "../model.ts";
import { routeFor } from "./routes.ts";
import type { Sessions } from "./sessions.ts";
import { checkLength, type TaskStarts } from "./task-start.ts";

export interface HostParts {
  config: Config;
  store: Store;
  sessions: Sessions;
  runner: TaskRunner;
  starts: TaskStarts;
  answers: Answers;
  scheduler: Scheduler;
  events: EventFeed;
  quota: TaskQuota;
  /** Rate limits, shared by the instances when the store is. */
  limiters: LimiterFactory;
  stats: EngineStats;
  workflowNames: () => string[];
  adapters: () => readonly Adapter[];
  /** The one-holder connections this process leads now (see HostHealth.instance). */
  leads?: () => string[];
  handle: (event: InboundEvent) => Promise<HandleOutcome>;
}

/**
 * The engine as adapters and the HTTP API see it (the Host port): each verb goes through the
 * engine's own rules — sessions through Sessions, tasks through the one door, answers through
 * the once-only acceptance — and hands out copies, never the store or the runner.
 */
export function createHost(parts: HostParts): Host {
  const { config, store, sessions, runner, starts, answers, scheduler, events, quota, stats } = parts;
  return {
    settings: { maxMessageLength: config.history.maxMessageLength, schedulerEnabled: config.scheduler.enabled, reviewers: [...config.reviewers] },
    version: chatflowVersion(),
    handle: parts.handle,
    messageWorkflow: (platform) => routeFor(config.routes, platform).message ?? undefined,
    sessions: {
      open: (address) => sessions.open(address),
      get: (id) => store.getSession(id),
      find: (address) => store.findOpenSession(sessionKey(address)),
      list: (filter, page) => sessions.list(filter, page),
      async update(id, change) {
        const now = Date.now();
        return store.updateSession(id, {
          ...(change.topic !== undefined ? { topic: change.topic } : {}),
          ...(change.closed ? { state: "closed" as const, closedAt: now } : {}),
          updatedAt: now,
        });
      },
      messages: (sessionId, limit) => store.listMessages(sessionId, limit),
      onOpened: (listener) => sessions.onCreated(listener),
    },
    tasks: {
      start: (request) => starts.start(request),
      get: (id) => store.getTask(id),
      list: (filter, page) => store.listTasks(filter, page),
      async active(sessionId) {
        const id = await runner.activeTaskId(sessionId);
        return id ? store.getTask(id) : undefined;
      },
      mayAct: (task, address) => answers.mayAct(task, address),
      answer: (task, wait, value, eventKey, by) => {
        // An answer enters the history like a message: held to the same length, whoever sends it.
        const limit = config.history.maxMessageLength;
        if (typeof value === "string") checkLength("text", value, limit);
        else for (const field of ["edited", "feedback"] as const) checkLength(field, value[field], limit);
        return answers.accept(task, wait, value, eventKey, by);
      },
      cancel: (taskId, by) => runner.cancel(taskId, by),
      workflows: parts.workflowNames,
      limitPlatform: (platform, limit) => quota.setPlatformLimit(platform, limit),
    },
    schedules: {
      list: () => scheduler.list(),
      add: (spec) => scheduler.add(spec),
      pause: (id, reason) => scheduler.pause(id, reason),
      resume: (id) => scheduler.resume(id),
      remove: (id) => scheduler.remove(id),
      nextFire: (schedule) => scheduler.nextFire(schedule),
    },
    events: {
      subscribe: (filter, listener, options) => events.subscribe(filter, listener, options),
      publish: (event) => events.publish(event),
    },
    keys: {
      claim: (key, ttlMs) => store.claimEvent(key, Date.now() + ttlMs),
      seen: (key) => store.hasEvent(key),
      limiter: (options) => parts.limiters(options),
    },
    async health() {
      let storeHealth: { ok: boolean; error?: string } = { ok: true };
      try {
        await store.listSessions({}, { limit: 1 });
        // A store that reads fine may still fail to write (a full disk, a read-only directory).
        const writes = store.health?.();
        if (writes && !writes.ok) storeHealth = { ok: false, ...(writes.error ? { error: writes.error } : {}) };
      } catch (error) {
        storeHealth = { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
      return {
        store: storeHealth,
        scheduler: { enabled: config.scheduler.enabled, ...(await scheduler.state()) },
        adapters: Object.fromEntries(parts.adapters().map((a) => [a.platform, { connected: a.connected?.() ?? true }])),
        running: runner.runningCount,
        instance: { id: runner.instanceId, store: config.store.driver, shared: hasTaskClaims(store), leads: parts.leads?.() ?? [] },
      };
    },
    stats: () => ({
      adapterCalls: stats.adapterCalls.entries(),
      adapterErrors: stats.adapterErrors.entries(),
      rateLimited: stats.rateLimited.entries(),
      duplicateEvents: stats.duplicateEvents.entries(),
    }),
  };
}
