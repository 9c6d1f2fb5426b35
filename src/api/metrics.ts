import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { FeedEvent, Host, TaskStatus } from "../port/index.ts";
import type { EventStreams } from "./event-streams.ts";

/**
 * Prometheus metrics of a bot (prom-client, its own registry): tasks by status and workflow,
 * how long tasks take and how long they wait for people, review verdicts, backlog, adapter
 * calls, errors and 429s, re-delivered events. Counters follow the bot's event feed from the
 * moment the metrics are created; gauges are read through the engine at each scrape.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly #unsubscribe: () => void;
  /** Task id → when it started waiting for a person, and for what. */
  readonly #waitingSince = new Map<string, { at: number; kind: "question" | "review" }>();

  /** `streams`: the API's live event subscriptions, shown as `chatflow_event_subscriptions{transport}`. */
  constructor(host: Host, streams?: EventStreams) {
    const registry = this.registry;
    if (streams) {
      new Gauge({
        name: "chatflow_event_subscriptions",
        help: "Live event subscriptions of API clients, by transport (sse, ws); each ends with its response or socket.",
        labelNames: ["transport"],
        registers: [registry],
        collect() {
          for (const transport of ["sse", "ws"] as const) this.set({ transport }, streams.count(transport));
        },
      });
    }
    // Both task gauges read one listing per scrape (they are collected in the same scrape).
    let listing: Promise<Map<string, number>> | undefined;
    const taskCounts = () => {
      listing ??= countTasks(host).finally(() => setImmediate(() => (listing = undefined)));
      return listing;
    };
    const finished = new Counter({ name: "chatflow_tasks_finished_total", help: "Tasks that ended, by workflow and final status (success rate: completed / all).", labelNames: ["workflow", "status"], registers: [registry] });
    const duration = new Histogram({
      name: "chatflow_task_duration_seconds",
      help: "From a task's creation to its end, waiting for people included, by workflow and final status.",
      labelNames: ["workflow", "status"],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600],
      registers: [registry],
    });
    const waited = new Histogram({
      name: "chatflow_wait_for_people_seconds",
      help: "How long tasks waited for a person's answer (question) or verdict (review).",
      labelNames: ["kind"],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600],
      registers: [registry],
    });
    const verdicts = new Counter({ name: "chatflow_reviews_total", help: "Review verdicts (approval rate: approved / all).", labelNames: ["verdict"], registers: [registry] });
    new Gauge({
      name: "chatflow_review_approval_rate",
      help: "Approved reviews / all reviews since start (NaN before the first).",
      registers: [registry],
      async collect() {
        const values = (await verdicts.get()).values;
        const approved = values.filter((v) => v.labels.verdict !== "rejected").reduce((sum, v) => sum + v.value, 0);
        const all = values.reduce((sum, v) => sum + v.value, 0);
        this.set(all === 0 ? Number.NaN : approved / all);
      },
    });
    new Gauge({
      name: "chatflow_tasks",
      help: "Stored tasks by status and workflow.",
      labelNames: ["status", "workflow"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [key, count] of await taskCounts()) {
          const [status, workflow] = key.split("\u0000") as [TaskStatus, string];
          this.set({ status, workflow }, count);
        }
      },
    });
    new Gauge({
      name: "chatflow_backlog",
      help: "Tasks not finished: queued (or running) and waiting for people.",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        const counts = { queued: 0, running: 0, waiting: 0 };
        for (const [key, count] of await taskCounts()) {
          const status = key.split("\u0000")[0] as keyof typeof counts;
          if (status in counts) counts[status] += count;
        }
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    const fromStats = (name: string, help: string, labelNames: string[], read: () => Array<{ labels: Record<string, string>; value: number }>) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const { labels, value } of read()) this.inc(labels, value);
        },
      });
    fromStats("chatflow_adapter_calls_total", "Calls to platform adapters, by platform and method.", ["platform", "method"], () => host.stats().adapterCalls);
    fromStats("chatflow_adapter_errors_total", "Adapter calls that failed, by platform and method.", ["platform", "method"], () => host.stats().adapterErrors);
    fromStats("chatflow_rate_limited_total", "Platform 429s (rate limits) that reached the engine, by platform.", ["platform"], () => host.stats().rateLimited);
    fromStats("chatflow_events_deduplicated_total", "Inbound events ignored as re-deliveries, by platform.", ["platform"], () => host.stats().duplicateEvents);

    const observe = async (event: FeedEvent): Promise<void> => {
      if (event.type === "question" || event.type === "review") {
        this.#waitingSince.set(event.taskId, { at: event.at, kind: event.type });
        return;
      }
      if (event.taskId === undefined) return;
      const waiting = this.#waitingSince.get(event.taskId);
      if (waiting && event.type !== "message") {
        this.#waitingSince.delete(event.taskId);
        waited.observe({ kind: waiting.kind }, Math.max(0, event.at - waiting.at) / 1000);
      }
      if (event.type === "answered" && event.data.kind === "review") verdicts.inc({ verdict: event.data.approved ? (event.data.edited ? "edited" : "approved") : "rejected" });
      if (event.type === "end") {
        const task = await host.tasks.get(event.taskId);
        const workflow = task?.workflow ?? "unknown";
        finished.inc({ workflow, status: event.data.status });
        if (task) duration.observe({ workflow, status: event.data.status }, Math.max(0, event.at - task.createdAt) / 1000);
      }
    };
    this.#unsubscribe = host.events.subscribe({}, observe);
  }

  /** The metrics in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.#unsubscribe();
  }
}

/** Tasks by `status\0workflow`, read from the store. */
async function countTasks(host: Host): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await host.tasks.list({}, { limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const task of page.items) {
      const key = `${task.status}\u0000${task.workflow}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return counts;
}
