import { createHash } from "node:crypto";
import { Cron } from "croner";
import type { Delivery } from "../engine/delivery.ts";
import type { Sessions } from "../engine/sessions.ts";
import { ChatflowError, NotFoundError, PermissionError } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Logger } from "../logger.ts";
import type { Address } from "../model.ts";
import type { Store } from "../store/port.ts";
import type { TaskRunner } from "../tasks/runner.ts";
import { cronPattern, slotsBetween } from "./cron.ts";
import type { MissedPolicy, Schedule } from "./schedule.ts";

export interface SchedulerOptions {
  store: Store;
  delivery: Delivery;
  sessions: Sessions;
  runner: TaskRunner;
  log: Logger;
  /** Timezone of schedules that name none (IANA). */
  timezone: string;
  /** Most missed slots fired at start-up under `all` (the latest ones). */
  maxCatchUp: number;
  /** Failures to a gone target (403/404, no adapter) before a schedule is paused. */
  maxFailures: number;
  /** Whether a workflow exists (checked when a schedule is added). */
  hasWorkflow: (name: string) => boolean;
}

/** What a new schedule needs; the rest gets defaults. */
export interface ScheduleSpec {
  id?: string;
  cron: string;
  timezone?: string;
  target: Address;
  text?: string;
  workflow?: string;
  input?: unknown;
  missedPolicy?: MissedPolicy;
  enabled?: boolean;
  origin: Schedule["origin"];
}

export interface SchedulerState {
  running: boolean;
  schedules: { id: string; enabled: boolean; cron: string; timezone: string; next: string | null; lastSlot: string | null; pausedReason?: string }[];
}

/** Ids of what a slot produces, derived from schedule and slot so a replayed slot reuses them. */
function slotId(prefix: string, scheduleId: string, slot: number): string {
  return `${prefix}${createHash("sha256").update(`${scheduleId}@${slot}`).digest("base64url").slice(0, 20)}`;
}

/**
 * Cron schedules. croner only ticks (with `catch` and `protect`); the slot (schedule id +
 * slot time) is claimed in the store before anything is posted — a conditional update that
 * also marks the slot pending — so a slot fires once, across restarts too. A pending slot
 * found at start-up is delivered then (asking the adapter to `recall` it first).
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #jobs = new Map<string, Cron>();
  /** Per-schedule chain, so two fires of one schedule never overlap. */
  readonly #chains = new Map<string, Promise<void>>();
  #running = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /** Syncs the config's schedules, applies each schedule's missed-slot policy, then ticks. */
  async start(fromConfig: ScheduleSpec[] = []): Promise<void> {
    await this.#syncConfig(fromConfig);
    this.#running = true;
    const now = Date.now();
    for (const schedule of await this.#o.store.listSchedules()) {
      if (!schedule.enabled) continue;
      await this.#serial(schedule.id, () => this.#fireDue(schedule.id, now, schedule.missedPolicy));
      this.#arm(schedule);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const job of this.#jobs.values()) job.stop();
    this.#jobs.clear();
    await Promise.all(this.#chains.values());
  }

  /** Validates and stores a schedule; throws ScheduleInputError (nothing stored) on bad input. */
  async add(spec: ScheduleSpec): Promise<Schedule> {
    const timezone = spec.timezone ?? this.#o.timezone;
    cronPattern(spec.cron, timezone);
    if (spec.workflow !== undefined && !this.#o.hasWorkflow(spec.workflow)) {
      throw new ChatflowError("validation", `There is no workflow named "${spec.workflow}".`);
    }
    if (spec.workflow === undefined && !spec.text?.trim()) throw new ChatflowError("validation", "A schedule needs a text to post or a workflow to run.");
    const now = Date.now();
    const schedule: Schedule = {
      id: spec.id ?? newId(4),
      rev: 1,
      cron: spec.cron,
      timezone,
      target: spec.target,
      ...(spec.text !== undefined ? { text: spec.text } : {}),
      ...(spec.workflow !== undefined ? { workflow: spec.workflow, input: spec.input ?? {} } : {}),
      enabled: spec.enabled ?? true,
      missedPolicy: spec.missedPolicy ?? "skip",
      failures: 0,
      origin: spec.origin,
      // Slots before creation never fire.
      lastSlot: now,
      createdAt: now,
      updatedAt: now,
    };
    await this.#o.store.createSchedule(schedule);
    if (this.#running) this.#arm(schedule);
    return schedule;
  }

  async remove(id: string): Promise<boolean> {
    const existing = await this.#o.store.getSchedule(id);
    if (!existing) return false;
    this.#disarm(id);
    await this.#o.store.deleteSchedule(id);
    return true;
  }

  /** Pauses a schedule (no fires until resumed); `reason` is shown in /schedule list. */
  async pause(id: string, reason = "paused"): Promise<Schedule | undefined> {
    this.#disarm(id);
    return this.#o.store.updateSchedule(id, { enabled: false, pausedReason: reason });
  }

  /** Resumes a paused schedule; slots missed while paused are skipped. */
  async resume(id: string): Promise<Schedule | undefined> {
    const resumed = await this.#o.store.updateSchedule(id, { enabled: true, pausedReason: undefined, failures: 0, lastSlot: Date.now() });
    if (resumed && this.#running) this.#arm(resumed);
    return resumed;
  }

  list(): Promise<Schedule[]> {
    return this.#o.store.listSchedules();
  }

  /** For a health endpoint: running, and the next fire of each schedule. */
  async state(): Promise<SchedulerState> {
    const schedules = await this.#o.store.listSchedules();
    return {
      running: this.#running,
      schedules: schedules.map((s) => ({
        id: s.id,
        enabled: s.enabled,
        cron: s.cron,
        timezone: s.timezone,
        next: s.enabled ? (this.#jobs.get(s.id)?.nextRun()?.toISOString() ?? null) : null,
        lastSlot: s.lastSlot !== undefined ? new Date(s.lastSlot).toISOString() : null,
        ...(s.pausedReason ? { pausedReason: s.pausedReason } : {}),
      })),
    };
  }

  /** The next fire of a schedule, computed from its expression. */
  nextFire(schedule: Pick<Schedule, "cron" | "timezone">): Date | null {
    return cronPattern(schedule.cron, schedule.timezone).nextRun();
  }

  async #syncConfig(specs: ScheduleSpec[]): Promise<void> {
    const { store } = this.#o;
    const wanted = new Set(specs.map((spec) => spec.id));
    for (const existing of await store.listSchedules()) {
      if (existing.origin === "config" && !wanted.has(existing.id)) await store.deleteSchedule(existing.id);
    }
    for (const spec of specs) {
      const existing = await store.getSchedule(spec.id!);
      if (!existing) {
        await this.add(spec);
        continue;
      }
      cronPattern(spec.cron, spec.timezone ?? this.#o.timezone);
      await store.updateSchedule(existing.id, {
        cron: spec.cron,
        timezone: spec.timezone ?? this.#o.timezone,
        target: spec.target,
        text: spec.text,
        workflow: spec.workflow,
        input: spec.workflow !== undefined ? (spec.input ?? {}) : undefined,
        missedPolicy: spec.missedPolicy ?? "skip",
        enabled: spec.enabled ?? true,
        ...(spec.enabled === false ? {} : { pausedReason: undefined, failures: 0 }),
      });
    }
  }

  #arm(schedule: Schedule): void {
    this.#disarm(schedule.id);
    if (!schedule.enabled) return;
    const job = new Cron(
      schedule.cron,
      {
        timezone: schedule.timezone,
        protect: true,
        catch: (error) => this.#o.log.error({ err: error, scheduleId: schedule.id }, "schedule tick failed"),
      },
      () => this.#serial(schedule.id, () => this.#fireDue(schedule.id, Date.now(), "all")),
    );
    this.#jobs.set(schedule.id, job);
  }

  #disarm(id: string): void {
    this.#jobs.get(id)?.stop();
    this.#jobs.delete(id);
  }

  #serial(id: string, work: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(id) ?? Promise.resolve())
      .then(work)
      .catch((error: unknown) => this.#o.log.error({ err: error, scheduleId: id }, "schedule fire failed"));
    this.#chains.set(id, next);
    void next.finally(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
    return next;
  }

  /** Delivers a pending slot, then claims and fires the slots due by `now` under `policy`. */
  async #fireDue(id: string, now: number, policy: MissedPolicy): Promise<void> {
    const { store, log } = this.#o;
    let schedule = await store.getSchedule(id);
    if (!schedule?.enabled) return;
    if (schedule.pendingSlot !== undefined) {
      await this.#deliver(schedule, schedule.pendingSlot, true);
      schedule = await store.getSchedule(id);
      if (!schedule?.enabled || schedule.pendingSlot !== undefined) return;
    }
    const cron = cronPattern(schedule.cron, schedule.timezone);
    const after = schedule.lastSlot ?? schedule.createdAt;
    const { slots, dropped } = slotsBetween(cron, after, now, policy === "all" ? this.#o.maxCatchUp : 1);
    if (slots.length === 0) return;
    const missed = policy === "skip" ? slots : [];
    if (dropped > 0 || missed.length > 0) log.warn({ scheduleId: id, skipped: dropped + missed.length, policy }, "missed schedule slots skipped");
    if (policy === "skip") {
      // Mark them passed, so they don't fire later.
      await store.updateSchedule(id, { lastSlot: slots.at(-1)! }, { ifRev: schedule.rev });
      return;
    }
    for (const slot of slots) {
      const claimed = await store.updateSchedule(id, { lastSlot: slot, pendingSlot: slot }, { ifRev: schedule.rev });
      if (!claimed) return; // changed meanwhile (paused, removed, claimed): the next tick looks again
      await this.#deliver(claimed, slot, false);
      const after: Schedule | undefined = await store.getSchedule(id);
      if (!after?.enabled || after.pendingSlot !== undefined) return;
      schedule = after;
    }
  }

  /** Posts the slot's text (or starts its workflow), records it in history, clears the pending mark. */
  async #deliver(schedule: Schedule, slot: number, recovering: boolean): Promise<void> {
    const { store, delivery, sessions, runner, log } = this.#o;
    const key = `sched:${schedule.id}:${slot}`;
    try {
      const session = await sessions.open(schedule.target);
      if (schedule.workflow !== undefined) {
        await runner.submit({
          id: slotId("t-", schedule.id, slot),
          sessionId: session.id,
          address: schedule.target,
          workflow: schedule.workflow,
          input: schedule.input ?? {},
          source: "scheduled",
        });
      } else {
        const text = schedule.text ?? "";
        const sent = (recovering ? await delivery.recall(schedule.target, key) : undefined) ?? (await delivery.send(schedule.target, { kind: "notice", text, key }));
        const messageId = slotId("s-", schedule.id, slot);
        const tail = await store.listMessages(session.id, 20);
        if (!tail.some((m) => m.id === messageId)) {
          await store.appendMessage({ id: messageId, sessionId: session.id, role: "assistant", source: "scheduled", text, platformMessageId: sent.id, at: Date.now() });
        }
      }
      await store.updateSchedule(schedule.id, { pendingSlot: undefined, failures: 0, lastError: undefined, lastFiredAt: Date.now() });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const gone = error instanceof PermissionError || error instanceof NotFoundError || (error instanceof ChatflowError && error.code === "not_found");
      if (!gone) {
        // Transient (network, rate limit): the slot stays pending and is tried again at the next tick.
        log.warn({ err: error, scheduleId: schedule.id, slot }, "scheduled post failed; will retry");
        await store.updateSchedule(schedule.id, { lastError: message });
        return;
      }
      const failures = schedule.failures + 1;
      const pause = failures >= this.#o.maxFailures;
      await store.updateSchedule(schedule.id, {
        pendingSlot: undefined,
        failures,
        lastError: message,
        ...(pause ? { enabled: false, pausedReason: `its target is gone (${message})` } : {}),
      });
      if (pause) {
        this.#disarm(schedule.id);
        log.warn({ scheduleId: schedule.id, failures, reason: message }, "schedule paused: its target is gone");
      } else {
        log.warn({ scheduleId: schedule.id, failures, reason: message }, "scheduled post failed: target gone");
      }
    }
  }
}
