import { Cron } from "croner";
import { ChatflowError, NotFoundError, PermissionError, RateLimitError } from "../errors.ts";
import { derivedId, newId } from "../ids.ts";
import type { ScheduleSpec, SchedulerState } from "../port/host.ts";
import { appendMessageOnce } from "../store/append-once.ts";
import { workflowInput } from "../engine/task-start.ts";
import { SlotHolder } from "./slot-holder.ts";
import type { SchedulerOptions } from "./options.ts";
export type { SchedulerOptions } from "./options.ts";
import { cronPattern, formatSeconds, shortestGap, slotsBetween } from "./cron.ts";
import type { MissedPolicy, Schedule } from "../store/records.ts";


/** What makes a slot unique: the ids of what it produces derive from it, so a replayed slot reuses them. */
function slotKey(scheduleId: string, slot: number): string {
  return `${scheduleId}@${slot}`;
}

/**
 * Cron schedules. croner only ticks: one job every second (with `catch` and `protect`), while
 * the scheduler keeps each enabled schedule's next fire in memory (one croner job per
 * schedule would cost ~80 KiB and a timer each). Before anything is posted, the slot
 * (schedule id + slot time) is claimed in the store — a conditional update that also marks
 * the slot pending — so a slot fires once, across restarts too. A pending slot found later is
 * delivered then (asking the adapter to `recall` it first, so it is not posted twice).
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  /** Enabled schedule id → its next fire (epoch ms). */
  readonly #next = new Map<string, number>();
  /** Parsed patterns by `cron|timezone`, shared by schedules with the same expression. */
  readonly #patterns = new Map<string, Cron>();
  #ticker: Cron | undefined;
  /** Per-schedule chain, so two fires of one schedule never overlap. */
  readonly #chains = new Map<string, Promise<void>>();
  #running = false;
  /** Aborts model calls writing prompt schedules' messages when the scheduler stops. */
  #stopping = new AbortController();
  readonly #holder: SlotHolder;
  #reloadTimer: NodeJS.Timeout | undefined;
  #unlisten: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#holder = new SlotHolder(options.shared?.instanceId ?? "", options.shared !== undefined, options.shared?.slotLeaseMs ?? 10_000);
  }

  /** Tells the other processes sharing the store that schedules changed. */
  #changed(): void {
    void this.#o.shared?.signals?.signal("schedules");
  }

  /**
   * Shared store: schedules added, changed or removed by another process are picked up (on its
   * signal, and every `reloadMs` in case one was missed), and slots another process left
   * pending when it died are delivered.
   */
  async #reload(): Promise<void> {
    if (!this.#running) return;
    const now = Date.now();
    const stored = await this.#o.store.listSchedules();
    const ids = new Set(stored.map((s) => s.id));
    for (const id of this.#next.keys()) if (!ids.has(id)) this.#disarm(id);
    for (const schedule of stored) {
      if (!schedule.enabled) {
        this.#disarm(schedule.id);
        continue;
      }
      if (this.#chains.has(schedule.id)) continue;
      if (schedule.pendingSlot !== undefined && !this.#holder.heldElsewhere(schedule, now)) {
        void this.#serial(schedule.id, () => this.#fireDue(schedule.id, now, schedule.missedPolicy));
        continue;
      }
      try {
        this.#arm(schedule);
      } catch (error) {
        this.#report(error, schedule.id, `schedule ${schedule.id} skipped: its next fire can't be computed`);
      }
    }
  }

  /** Syncs the config's schedules, applies each schedule's missed-slot policy, then ticks. */
  async start(fromConfig: ScheduleSpec[] = []): Promise<void> {
    await this.#syncConfig(fromConfig);
    this.#running = true;
    this.#stopping = new AbortController();
    const now = Date.now();
    const catchUp: Promise<void>[] = [];
    for (const schedule of await this.#o.store.listSchedules()) {
      if (!schedule.enabled) continue;
      let next: number | null;
      try {
        next = this.#nextAfter(schedule);
      } catch (error) {
        // One schedule the runtime can't compute (a timezone it no longer knows) must not stop the others.
        this.#report(error, schedule.id, `schedule ${schedule.id} skipped: its next fire can't be computed`);
        continue;
      }
      if (schedule.pendingSlot === undefined && (next === null || next > now)) {
        if (next !== null) this.#next.set(schedule.id, next);
        continue;
      }
      catchUp.push(this.#serial(schedule.id, () => this.#fireDue(schedule.id, now, schedule.missedPolicy)));
    }
    await Promise.all(catchUp);
    const shared = this.#o.shared;
    if (shared) {
      const reload = () => void this.#reload().catch((error: unknown) => this.#report(error, undefined, "schedules not reloaded"));
      this.#unlisten = shared.signals?.onSignal((topic) => topic === "schedules" && reload());
      this.#reloadTimer = setInterval(reload, shared.reloadMs ?? 5000);
      this.#reloadTimer.unref();
    }
    this.#ticker = new Cron("* * * * * *", { protect: true, catch: (error) => this.#report(error, undefined, "scheduler tick failed") }, () => this.#tick());
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping.abort();
    this.#ticker?.stop();
    this.#ticker = undefined;
    clearInterval(this.#reloadTimer);
    this.#unlisten?.();
    this.#next.clear();
    await Promise.all(this.#chains.values());
  }

  /** Validates and stores a schedule; throws ScheduleInputError (nothing stored) on bad input. */
  async add(spec: ScheduleSpec): Promise<Schedule> {
    const timezone = spec.timezone ?? this.#o.timezone;
    cronPattern(spec.cron, timezone);
    // A workflow's input is checked now, against its schema, not at the first fire.
    const input = spec.workflow !== undefined ? workflowInput(this.#o.starts.workflow(spec.workflow), { input: spec.input ?? {} }) : undefined;
    const kinds = [spec.text !== undefined, spec.prompt !== undefined, spec.workflow !== undefined].filter(Boolean).length;
    if (kinds !== 1 || (spec.text !== undefined && !spec.text.trim()) || (spec.prompt !== undefined && !spec.prompt.trim())) {
      throw new ChatflowError("validation", "A schedule needs one of: a text to post, a prompt the assistant writes the message from, or a workflow to run.");
    }
    if (spec.prompt !== undefined && !this.#o.compose) {
      throw new ChatflowError("validation", `A prompt schedule needs the assistant. ${this.#o.composeMissing ?? "Configure llm: and LLM_API_KEY."}`);
    }
    this.#checkInterval(spec, timezone);
    const now = Date.now();
    const schedule: Schedule = {
      id: spec.id ?? newId(4),
      rev: 1,
      cron: spec.cron,
      timezone,
      target: spec.target,
      ...(spec.text !== undefined ? { text: spec.text } : {}),
      ...(spec.prompt !== undefined ? { prompt: spec.prompt, withHistory: spec.withHistory ?? false } : {}),
      ...(spec.workflow !== undefined ? { workflow: spec.workflow, input } : {}),
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
    this.#changed();
    return schedule;
  }

  #report(error: unknown, scheduleId: string | undefined, message: string): void {
    const fields = scheduleId ? { scheduleId } : {};
    if (this.#o.report) this.#o.report(error, { where: "schedule", ...fields }, message, fields);
    else this.#o.log.error({ err: error, ...fields }, message);
  }

  /** Refuses a chat-made schedule that would start work more often than `minWorkIntervalMs`. */
  #checkInterval(spec: ScheduleSpec, timezone: string): void {
    const min = this.#o.minWorkIntervalMs ?? 0;
    if (min <= 0 || spec.origin !== "chat" || (spec.workflow === undefined && spec.prompt === undefined)) return;
    const gap = shortestGap(cronPattern(spec.cron, timezone));
    if (gap !== null && gap < min) {
      const what = spec.workflow !== undefined ? "runs a workflow" : "has the assistant write";
      throw new ChatflowError(
        "validation",
        `"${spec.cron}" fires as often as every ${formatSeconds(gap)}; a schedule that ${what} may fire at most once every ${formatSeconds(min)} (scheduler.minWorkIntervalSeconds).`,
      );
    }
  }

  async remove(id: string): Promise<boolean> {
    const existing = await this.#o.store.getSchedule(id);
    if (!existing) return false;
    this.#disarm(id);
    await this.#o.store.deleteSchedule(id);
    this.#changed();
    return true;
  }

  /** Pauses a schedule (no fires until resumed); `reason` is shown in /schedule list. */
  async pause(id: string, reason = "paused"): Promise<Schedule | undefined> {
    this.#disarm(id);
    const paused = await this.#o.store.updateSchedule(id, { enabled: false, pausedReason: reason });
    this.#changed();
    return paused;
  }

  /** Resumes a paused schedule; slots missed while paused are skipped. */
  async resume(id: string): Promise<Schedule | undefined> {
    const resumed = await this.#o.store.updateSchedule(id, { enabled: true, pausedReason: undefined, failures: 0, lastSlot: Date.now() });
    if (resumed && this.#running) this.#arm(resumed);
    this.#changed();
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
        next: s.enabled && this.#next.has(s.id) ? new Date(this.#next.get(s.id)!).toISOString() : null,
        lastSlot: s.lastSlot !== undefined ? new Date(s.lastSlot).toISOString() : null,
        ...(s.pausedReason ? { pausedReason: s.pausedReason } : {}),
      })),
    };
  }

  /** The next fire of a schedule from now, computed from its expression; null when it never fires or can't be computed. */
  nextFire(schedule: Pick<Schedule, "cron" | "timezone">): Date | null {
    try {
      return this.#pattern(schedule).nextRun();
    } catch {
      // A stored expression or timezone this runtime can't read (reported once at start): listings go on.
      return null;
    }
  }

  #pattern(schedule: Pick<Schedule, "cron" | "timezone">): Cron {
    const key = `${schedule.cron}|${schedule.timezone}`;
    let pattern = this.#patterns.get(key);
    if (!pattern) {
      pattern = cronPattern(schedule.cron, schedule.timezone);
      this.#patterns.set(key, pattern);
    }
    return pattern;
  }

  /** The first slot after the schedule's last claimed one (or its creation). */
  #nextAfter(schedule: Schedule): number | null {
    return this.#pattern(schedule).nextRun(new Date(schedule.lastSlot ?? schedule.createdAt))?.getTime() ?? null;
  }

  /** Every second: fires the schedules whose next slot has come. */
  async #tick(): Promise<void> {
    const now = Date.now();
    const due: Promise<void>[] = [];
    for (const [id, next] of this.#next) {
      if (next > now) continue;
      this.#next.delete(id);
      due.push(this.#serial(id, () => this.#fireDue(id, now, "all", next)));
    }
    await Promise.all(due);
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
        try {
          await this.add(spec);
        } catch (error) {
          // Another process sharing the store, starting at the same time, added it first.
          if (!(await store.getSchedule(spec.id!))) throw error;
        }
        continue;
      }
      this.#pattern({ cron: spec.cron, timezone: spec.timezone ?? this.#o.timezone });
      await store.updateSchedule(existing.id, {
        cron: spec.cron,
        timezone: spec.timezone ?? this.#o.timezone,
        target: spec.target,
        text: spec.text,
        prompt: spec.prompt,
        withHistory: spec.prompt !== undefined ? (spec.withHistory ?? false) : undefined,
        workflow: spec.workflow,
        input: spec.workflow !== undefined ? (spec.input ?? {}) : undefined,
        missedPolicy: spec.missedPolicy ?? "skip",
        enabled: spec.enabled ?? true,
        ...(spec.enabled === false ? {} : { pausedReason: undefined, failures: 0 }),
      });
    }
  }

  /** Puts an enabled schedule on the ticker's list with its next slot. */
  #arm(schedule: Schedule): void {
    this.#next.delete(schedule.id);
    if (!schedule.enabled || !this.#running) return;
    const next = this.#nextAfter(schedule);
    if (next !== null) this.#next.set(schedule.id, next);
  }

  #disarm(id: string): void {
    this.#next.delete(id);
  }

  #serial(id: string, work: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(id) ?? Promise.resolve())
      .then(work)
      .catch((error: unknown) => this.#report(error, id, "schedule fire failed"));
    this.#chains.set(id, next);
    void next.finally(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
    return next;
  }

  /** Fires what is due, then puts the schedule back on the ticker's list. */
  async #fireDue(id: string, now: number, policy: MissedPolicy, knownSlot?: number): Promise<void> {
    try {
      await this.#fireSlots(id, now, policy, knownSlot);
    } finally {
      const schedule = await this.#o.store.getSchedule(id);
      if (schedule) this.#arm(schedule);
    }
  }

  /**
   * Delivers a pending slot, then claims and fires the slots due by `now` under `policy`.
   * `knownSlot` (from the ticker's list) is fired first without computing anything, so many
   * schedules due in the same second go out with little lateness.
   */
  async #fireSlots(id: string, now: number, policy: MissedPolicy, knownSlot?: number): Promise<void> {
    const { store, log } = this.#o;
    let schedule = await store.getSchedule(id);
    if (!schedule?.enabled) return;
    if (schedule.pendingSlot !== undefined) {
      // Another live process is delivering it; one that died is taken over.
      if (this.#holder.heldElsewhere(schedule, Date.now())) return;
      if (this.#holder.mustClaim(schedule)) {
        const taken = await store.updateSchedule(id, this.#holder.hold(Date.now(), schedule), { ifRev: schedule.rev });
        if (!taken) return;
        schedule = taken;
      }
      await this.#deliver(schedule, schedule.pendingSlot!, true);
      schedule = await store.getSchedule(id);
      if (!schedule?.enabled || schedule.pendingSlot !== undefined) return;
    }
    if (knownSlot !== undefined && knownSlot > (schedule.lastSlot ?? schedule.createdAt)) {
      const claimed = await store.updateSchedule(id, { lastSlot: knownSlot, pendingSlot: knownSlot, ...this.#holder.hold(Date.now(), schedule) }, { ifRev: schedule.rev });
      if (!claimed) return;
      await this.#deliver(claimed, knownSlot, false);
      schedule = await store.getSchedule(id);
      if (!schedule?.enabled || schedule.pendingSlot !== undefined) return;
    }
    const cron = this.#pattern(schedule);
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
      const claimed = await store.updateSchedule(id, { lastSlot: slot, pendingSlot: slot, ...this.#holder.hold(Date.now(), schedule) }, { ifRev: schedule.rev });
      if (!claimed) return; // changed meanwhile (paused, removed, claimed): the next tick looks again
      await this.#deliver(claimed, slot, false);
      const after: Schedule | undefined = await store.getSchedule(id);
      if (!after?.enabled || after.pendingSlot !== undefined) return;
      schedule = after;
    }
  }

  /**
   * The model writes the message of a prompt schedule's pending slot, kept with the slot before
   * it is posted: a restart after this posts the same text (or finds it posted), never a second one.
   */
  async #write(schedule: Schedule): Promise<string> {
    const { store, sessions, compose, historyWindow = 50 } = this.#o;
    if (!compose) throw new ChatflowError("config", `A prompt schedule needs the assistant. ${this.#o.composeMissing ?? "Configure llm: and LLM_API_KEY."}`);
    const history = schedule.withHistory ? await store.listMessages((await sessions.open(schedule.target)).id, historyWindow) : undefined;
    const text = await compose({ prompt: schedule.prompt!, ...(history ? { history } : {}), signal: this.#stopping.signal });
    await store.updateSchedule(schedule.id, { pendingText: text });
    return text;
  }

  /** Posts the slot's text (written by the model for a prompt), or starts its workflow; records it in history, clears the pending mark. */
  async #deliver(schedule: Schedule, slot: number, recovering: boolean): Promise<void> {
    const { store, delivery, sessions, starts, log } = this.#o;
    const key = `sched:${schedule.id}:${slot}`;
    try {
      if (schedule.workflow !== undefined) {
        const session = await sessions.open(schedule.target);
        await starts.start({
          key: slotKey(schedule.id, slot),
          sessionId: session.id,
          address: schedule.target,
          workflow: schedule.workflow,
          input: schedule.input ?? {},
          source: "scheduled",
          // A slot's task waits behind whatever the chat is doing, whatever tasks.busy says.
          whenBusy: "queue",
          // The operator's schedules are not counted against anyone; a chat-made one, against its maker.
          unmetered: schedule.origin === "config",
        });
      } else {
        const recalled = recovering ? await delivery.recall(schedule.target, key) : undefined;
        const text = schedule.prompt === undefined ? (schedule.text ?? "") : (schedule.pendingText ?? (await this.#write(schedule)));
        const sent = recalled ?? (await delivery.send(schedule.target, { kind: "notice", text, key }));
        const session = await sessions.open(schedule.target);
        await appendMessageOnce(store, { id: derivedId("s-", slotKey(schedule.id, slot)), sessionId: session.id, role: "assistant", source: "scheduled", text, platformMessageId: sent.id, at: Date.now() });
      }
      await store.updateSchedule(schedule.id, { pendingSlot: undefined, ...SlotHolder.released, pendingText: undefined, failures: 0, lastError: undefined, lastFiredAt: Date.now() });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof RateLimitError) {
        // The maker is at their task limit: this slot is skipped (not kept to pile up), said in /schedule list.
        log.warn({ scheduleId: schedule.id, slot, reason: message }, "scheduled task skipped: its maker is at their task limit");
        await store.updateSchedule(schedule.id, { pendingSlot: undefined, ...SlotHolder.released, pendingText: undefined, lastError: `a slot was skipped: ${message}` });
        return;
      }
      // The workflow no longer takes this input (its schema changed since): no retry can help.
      const unfit = schedule.workflow !== undefined && error instanceof ChatflowError && error.code === "validation";
      const gone = error instanceof PermissionError || error instanceof NotFoundError || (error instanceof ChatflowError && error.code === "not_found");
      // The model can't write it until a person changes something (the key, the model, llm.maxTokens).
      const unwritable = schedule.prompt !== undefined && error instanceof ChatflowError && error.code === "config";
      if (unfit) {
        await store.updateSchedule(schedule.id, { pendingSlot: undefined, ...SlotHolder.released, failures: schedule.failures + 1, lastError: message, enabled: false, pausedReason: `its input no longer fits ${schedule.workflow} (${message})` });
        this.#disarm(schedule.id);
        log.warn({ scheduleId: schedule.id, reason: message }, "schedule paused: its input no longer fits its workflow");
        return;
      }
      if (!gone && !unwritable) {
        // Transient (network, rate limit): the slot stays pending and is tried again at the next tick.
        log.warn({ err: error, scheduleId: schedule.id, slot }, "scheduled post failed; will retry");
        await store.updateSchedule(schedule.id, { lastError: message });
        return;
      }
      const failures = schedule.failures + 1;
      const pause = failures >= this.#o.maxFailures;
      await store.updateSchedule(schedule.id, {
        pendingSlot: undefined, ...SlotHolder.released,
        failures,
        lastError: message,
        pendingText: undefined,
        ...(pause ? { enabled: false, pausedReason: unwritable ? `the model can't write it (${message})` : `its target is gone (${message})` } : {}),
      });
      const why = unwritable ? "the model can't write it" : "its target is gone";
      if (pause) {
        this.#disarm(schedule.id);
        log.warn({ scheduleId: schedule.id, failures, reason: message }, `schedule paused: ${why}`);
      } else {
        log.warn({ scheduleId: schedule.id, failures, reason: message }, `scheduled post failed: ${why}`);
      }
    }
  }
}
