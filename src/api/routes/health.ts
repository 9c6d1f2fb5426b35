import { Hono } from "hono";
import type { Bot } from "../../app.ts";
import type { ApiMetrics } from "../metrics.ts";

export interface HealthOptions {
  bot: Bot;
  version: string;
  metrics: ApiMetrics;
  /** Each adapter's connection, by platform. */
  adapters: () => Record<string, { connected: boolean }>;
}

/**
 * `GET /healthz`: 200 when the store answers and its last write went through, the scheduler runs (if enabled) and every
 * adapter is connected, else 503 with what is wrong. `GET /metrics`: Prometheus text. Both
 * without a token, like probes and scrapers expect; they show counts, never contents.
 */
export function healthRoutes(options: HealthOptions): Hono {
  const app = new Hono();
  const { bot } = options;

  app.get("/healthz", async (c) => {
    let store: { ok: boolean; error?: string } = { ok: true };
    try {
      await bot.store.listSessions({}, { limit: 1 });
      // A store that reads fine may still fail to write (a full disk, a read-only directory).
      const writes = bot.store.health?.();
      if (writes && !writes.ok) store = { ok: false, ...(writes.error ? { error: writes.error } : {}) };
    } catch (error) {
      store = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const scheduler = await bot.schedulerState();
    const schedulerOk = !bot.config.scheduler.enabled || scheduler.running;
    const adapters = options.adapters();
    const ok = store.ok && schedulerOk && Object.values(adapters).every((a) => a.connected);
    return c.json(
      {
        status: ok ? "ok" : "degraded",
        version: options.version,
        store,
        scheduler: { enabled: bot.config.scheduler.enabled, running: scheduler.running, schedules: scheduler.schedules.length },
        adapters,
        tasks: { running: bot.runner.runningCount },
      },
      ok ? 200 : 503,
    );
  });

  app.get("/metrics", async (c) => {
    c.header("Content-Type", options.metrics.registry.contentType);
    return c.body(await options.metrics.text());
  });
  return app;
}
