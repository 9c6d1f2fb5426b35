import { Hono } from "hono";
import type { Host } from "../../port/index.ts";
import type { ApiMetrics } from "../metrics.ts";

export interface HealthOptions {
  /** The engine, through its port: `bot.host`. */
  engine: Host;
  version: string;
  metrics: ApiMetrics;
  /** Each adapter's connection, by platform; default: what the engine knows of its adapters. */
  adapters?: () => Record<string, { connected: boolean }>;
}

/**
 * `GET /healthz`: 200 when the store answers and its last write went through, the scheduler
 * runs (if enabled) and every adapter is connected, else 503 with what is wrong. `GET
 * /metrics`: Prometheus text. Both without a token, like probes and scrapers expect; they
 * show counts, never contents.
 */
export function healthRoutes(options: HealthOptions): Hono {
  const app = new Hono();
  const host = options.engine;

  app.get("/healthz", async (c) => {
    const health = await host.health();
    const adapters = options.adapters?.() ?? health.adapters;
    const schedulerOk = !health.scheduler.enabled || health.scheduler.running;
    const ok = health.store.ok && schedulerOk && Object.values(adapters).every((a) => a.connected);
    return c.json(
      {
        status: ok ? "ok" : "degraded",
        version: options.version,
        store: health.store,
        scheduler: { enabled: health.scheduler.enabled, running: health.scheduler.running, schedules: health.scheduler.schedules.length },
        adapters,
        tasks: { running: health.running },
        instance: health.instance,
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
