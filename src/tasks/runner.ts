import PQueue from "p-queue";
import { ChatflowError, TaskCancelledError, TaskTimeoutError } from "../errors.ts";
import { newId } from "../ids.ts";
import { clampPercent } from "../render/progress-bar.ts";
import type { StatusView } from "../render/status.ts";
import { createContext, ParkSignal } from "./context.ts";
import { takeAnswer } from "./take-answer.ts";
import { ReplayCheck } from "./replay-check.ts";
import { SessionLanes } from "./lanes.ts";
import type { SubmitRequest, TaskRunnerOptions } from "./runner-options.ts";
export type { SubmitRequest, TaskRunnerOptions } from "./runner-options.ts";
import { activeTasks, planLanes, showMissedFinals, startMissedSweep, type SweepWindow } from "./recovery.ts";
import { StatusMessages } from "./status-message.ts";
import { StreamedMessage } from "./streamed-message.ts";
import { TaskEvents } from "./task-events.ts";
import { TaskPosts } from "./task-posts.ts";
import { isFinished, type PendingWait, type Task, type TaskResult, type TaskStatus } from "../store/records.ts";
import { hasTaskClaims } from "../store/coordination.ts";
import { SharedWork } from "./claim-loop.ts";
import { LeaseLostSignal, TaskLease } from "./lease.ts";
import { cancelTask } from "./cancel.ts";


/** Aborts running tasks when the process stops; they resume at the next start. */
class ShutdownSignal extends Error {
  constructor() {
    super("chatflow is shutting down");
  }
}

interface RunState {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs tasks durably: a global concurrency limit, one active task per session, leases,
 * journaled steps replayed after answers and restarts, parked waits, cancel and timeout.
 * See ARCHITECTURE.md in this folder.
 */
export class TaskRunner {
  /** Identifies this process in task leases. */
  readonly instanceId: string;
  readonly status: StatusMessages;
  readonly #o: TaskRunnerOptions;
  readonly #queue: PQueue;
  readonly #lanes = new SessionLanes();
  readonly #running = new Map<string, RunState>();
  /**
   * Final statuses of completed tasks still being shown. They don't hold a concurrency slot
   * (a platform may pace edits of one message to one a second, which would cap short tasks at
   * `concurrency` a second), but `idle()` and `stop()` wait for them.
   */
  readonly #finals = new Set<Promise<void>>();
  /** Tasks to run again once their current run unwinds (answered while still parking). */
  readonly #rerun = new Set<string>();
  #stopping = false;
  readonly #events: TaskEvents;
  readonly #posts: TaskPosts;
  /** With a shared store (PostgreSQL): tasks come from the database, not from the lanes. */
  readonly #shared: SharedWork | undefined;
  #stopSweep: (() => void) | undefined;

  constructor(options: TaskRunnerOptions) {
    this.#o = options;
    this.instanceId = options.instanceId ?? newId(6);
    if (hasTaskClaims(options.store)) {
      this.#shared = new SharedWork({
        store: options.store,
        owner: this.instanceId,
        leaseMs: options.leaseMs,
        // Runs in progress are the queue's pending jobs; claimed tasks not started yet wait in it.
        free: () => options.concurrency - this.#queue.size - this.#queue.pending,
        run: (task) => this.#schedule(task.id, task),
        sweepMs: options.sweepMs ?? Math.min(5000, Math.max(50, options.leaseMs / 5)),
        log: options.log,
      });
    }
    this.#queue = new PQueue({ concurrency: options.concurrency });
    this.status = new StatusMessages(options.store, options.delivery, options.log, hasTaskClaims(options.store));
    this.#events = new TaskEvents(options.events);
    this.#posts = new TaskPosts(options.store, options.delivery, options.log);
  }

  /**
   * The task holding a session (running or waiting, or the next to run), if any. With a shared
   * store, read from the store: another process may run the session's task.
   */
  async activeTaskId(sessionId: string): Promise<string | undefined> {
    return this.#shared ? this.#shared.activeTaskId(sessionId) : this.#lanes.holder(sessionId);
  }

  /** Number of tasks running right now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /**
   * Creates a queued task (or returns the existing one with that id) and starts it when its
   * session is free. A new task counts against its owner's quota: over it, RateLimitError and
   * nothing is created.
   */
  async submit(request: SubmitRequest): Promise<Task> {
    const id = request.id ?? newId();
    const existing = await this.#o.store.getTask(id);
    if (existing) return existing;
    if (!request.unmetered) await this.#o.quota?.take(request.address);
    const now = Date.now();
    const task: Task = {
      id,
      rev: 1,
      sessionId: request.sessionId,
      address: request.address,
      owner: request.address.user,
      workflow: request.workflow,
      input: request.input,
      ...(request.source ? { source: request.source } : {}),
      status: "queued",
      percent: 0,
      createdAt: now,
      updatedAt: now,
      attempts: 0,
      elapsedMs: 0,
    };
    await this.#o.store.createTask(task);
    // The status message is the acknowledgement: posted at once, edited when the task starts.
    void this.status.update(task.address, this.#view(task, "queued"));
    if (this.#shared) {
      this.#shared.wake();
      return task;
    }
    const next = this.#lanes.enqueue(task.sessionId, task.id);
    if (next) this.#schedule(next);
    return task;
  }

  /**
   * Resumes work after a start: tasks whose lease expired (with an exclusive store, every
   * running task of an earlier process) and queued tasks are scheduled; waiting tasks keep
   * waiting, and their question is posted again where it may not be visible.
   */
  async recover(): Promise<{ resumed: number; waiting: number }> {
    const { store } = this.#o;
    if (this.#shared) {
      // Shared: whatever may run is claimed from the database, now and at every sweep.
      this.#shared.start((taskId) => this.#running.get(taskId)?.controller.abort(new TaskCancelledError()));
      // Questions and final statuses whose process died before posting them: posted by one of the others.
      this.#stopSweep = startMissedSweep({ store, graceMs: 2 * this.#o.leaseMs, postQuestion: (task) => this.#posts.question(task, false), showFinals: (window) => this.#showMissedFinals(window), log: this.#o.log });
      this.#o.log.info({ instance: this.instanceId }, "taking tasks from the shared store");
      return { resumed: 0, waiting: 0 };
    }
    const { run, waiting } = planLanes(await activeTasks(store), this.#lanes, store.exclusive, Date.now());
    for (const task of waiting) void this.#reshowQuestion(task);
    for (const id of run) this.#schedule(id);
    void this.#showMissedFinals({ since: Date.now() - 24 * 3600_000 });
    this.#o.log.info({ resumed: run.length, waiting: waiting.length }, "tasks recovered");
    return { resumed: run.length, waiting: waiting.length };
  }

  #showMissedFinals(window: SweepWindow): Promise<number> {
    return showMissedFinals(this.#o.store, this.status, (task, state) => this.#view(task, state, task.error ? { error: task.error } : {}), window);
  }

  /**
   * Requests cancellation. Queued and waiting tasks end at once; a running task at its next
   * step boundary. `by`: the user who cancels (shown in the `cancelled` event).
   */
  async cancel(taskId: string, by?: string, eventKey?: string): Promise<Task | undefined> {
    const { store } = this.#o;
    if (by !== undefined) this.#events.cancelledBy(taskId, by);
    // Marked first, so the event that asked is known before anything else happens to the task.
    if (eventKey !== undefined) await store.updateTask(taskId, { cancelEvent: eventKey });
    const task = await cancelTask(
      {
        store,
        owner: this.instanceId,
        ...(this.#shared ? { shared: { ...(this.#shared.signals ? { signals: this.#shared.signals } : {}) } } : {}),
        running: (id) => this.#running.get(id),
        finish: (t, status, ifRev) => this.#finish(t, status, {}, ifRev),
      },
      taskId,
    );
    if (!task || isFinished(task.status)) this.#events.cancelledBy(taskId, undefined);
    return task;
  }

  /** Resolves once the pending question of a task has been posted (and its id recorded). */
  async questionPosted(taskId: string): Promise<void> {
    await this.#posts.questionPosted(taskId);
  }

  /** Schedules a task that was answered (status set to queued by the caller). */
  resume(taskId: string): void {
    if (this.#shared) this.#shared.wake();
    else if (this.#running.has(taskId)) this.#rerun.add(taskId);
    else this.#schedule(taskId);
  }

  /** Stops taking work and interrupts running tasks; they keep `running` and resume at the next start. */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    this.#shared?.stop();
    this.#stopSweep?.();
    this.#queue.clear();
    for (const run of this.#running.values()) run.controller.abort(new ShutdownSignal());
    const all = Promise.all([...[...this.#running.values()].map((run) => run.done), ...this.#finals]);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }

  /** Resolves when no task is running or queued to run in this process, and every final status is shown. */
  async idle(): Promise<void> {
    while (this.#queue.size > 0 || this.#queue.pending > 0 || this.#running.size > 0 || this.#finals.size > 0) {
      await this.#shared?.settled();
      await this.#queue.onIdle();
      await Promise.all([...[...this.#running.values()].map((run) => run.done), ...this.#finals]);
    }
  }

  /** Runs a task when a worker is free; `claimed`: already running under this process's lease (shared store). */
  #schedule(taskId: string, claimed?: Task): void {
    if (this.#stopping) {
      // Given back at once, so another process takes it without waiting for the lease to end.
      if (claimed) void this.#o.store.updateTask(taskId, { lease: undefined }, { leaseOwner: this.instanceId }).catch(() => undefined);
      return;
    }
    void this.#queue.add(() => this.#execute(taskId, claimed)).catch(async (error: unknown) => {
      const task = await this.#o.store.getTask(taskId).catch(() => undefined);
      this.#reportError(error, task, "task execution crashed", { taskId });
    });
  }

  #reportError(error: unknown, task: Task | undefined, message: string, fields: Record<string, unknown>): void {
    if (this.#o.report) this.#o.report(error, { where: "task", ...(task ? { task } : {}) }, message, fields);
    else this.#o.log.error({ err: error, ...fields }, message);
  }

  #view(task: Task, state: StatusView["state"], extra: Partial<StatusView> = {}): StatusView {
    return { taskId: task.id, workflow: task.workflow, state, percent: task.percent, ...(task.step ? { step: task.step } : {}), ...extra };
  }

  /** Writes of a running task: with a shared store, only while this process holds its lease. */
  #fenced(): { leaseOwner: string } | undefined {
    return this.#shared ? { leaseOwner: this.instanceId } : undefined;
  }

  async #execute(taskId: string, claimed?: Task): Promise<void> {
    if (this.#running.has(taskId)) {
      this.#rerun.add(taskId);
      return;
    }
    // Shared store: a task runs only under a claim (taking the lease here unconditionally could take it from another process).
    if (this.#shared && !claimed) {
      this.#shared.wake();
      return;
    }
    const { store, log } = this.#o;
    const loaded = claimed ?? (await store.getTask(taskId));
    if (!loaded || isFinished(loaded.status) || loaded.status === "waiting") return;
    if (this.#stopping) {
      if (claimed) await store.updateTask(taskId, { lease: undefined }, { leaseOwner: this.instanceId });
      return;
    }
    // A claimed task may have waited here for a free slot past its lease (this process was busy or paused): still ours?
    if (claimed && this.#shared && !(await this.#shared.claims.renewLease(taskId, this.instanceId, this.#o.leaseMs))) return;
    if (loaded.cancelRequested) {
      await this.#finish(loaded, "cancelled", {}, undefined, Boolean(claimed));
      return;
    }
    const workflow = this.#o.workflows.get(loaded.workflow);
    if (!workflow) {
      await this.#finish(loaded, "failed", { error: `There is no workflow named "${loaded.workflow}".` }, undefined, Boolean(claimed));
      return;
    }
    const controller = new AbortController();
    let settle!: () => void;
    const run: RunState = { controller, done: new Promise((resolve) => (settle = resolve)) };
    this.#running.set(taskId, run);
    const started = Date.now();
    const timers: NodeJS.Timeout[] = [];
    let task = loaded;
    /** The last progress write: events after it are published after its own. */
    let progressed: Promise<void> = Promise.resolve();
    let lease: TaskLease | undefined;
    try {
      // A claimed task is running under this process's lease already (the claim wrote it).
      const leased = claimed
        ? claimed
        : await store.updateTask(taskId, {
            status: "running",
            lease: { owner: this.instanceId, until: started + this.#o.leaseMs },
            attempts: loaded.attempts + 1,
            startedAt: loaded.startedAt ?? started,
          });
      if (!leased) return;
      task = leased;
      if (claimed ? claimed.attempts === 1 : loaded.startedAt === undefined) this.#events.started(task);
      this.#events.emit(this.#events.progress(task, "running"));
      this.#o.onSessionState?.(task.sessionId, "running");
      const journal = await store.getJournal(taskId);
      // The answer it was resumed with goes into history and the journal before the replay.
      task = await takeAnswer(store, task, journal);
      const history = await store.listMessages(task.sessionId, this.#o.historyWindow);
      void this.status.update(task.address, this.#view(task, "running"));
      void this.#o.delivery.typing(task.address);
      lease = new TaskLease({ store, ...(this.#shared ? { claims: this.#shared.claims } : {}), taskId, owner: this.instanceId, leaseMs: this.#o.leaseMs, abort: (reason) => controller.abort(reason), log });
      const held = lease;
      timers.push(setInterval(() => void this.#o.delivery.typing(task.address), 4500));
      const timeoutMs = workflow.timeoutMs ?? this.#o.timeoutMs;
      const deadline = started + Math.max(0, timeoutMs - task.elapsedMs);
      timers.push(setTimeout(() => controller.abort(new TaskTimeoutError(timeoutMs)), deadline - started));
      const replay = new ReplayCheck(task.workflow, journal);
      const ctx = createContext({
        task,
        journal,
        replay,
        store,
        history,
        signal: controller.signal,
        log: log.child({ taskId, workflow: task.workflow }),
        retries: this.#o.stepRetries,
        retryBaseMs: this.#o.retryBaseMs,
        deadline,
        progress: async (percent, step) => {
          const view = this.#view(task, "running", { percent: clampPercent(percent), ...(step ? { step } : {}) });
          task = { ...task, percent: view.percent, ...(step ? { step } : {}) };
          const event = this.#events.progress(task, "running");
          // Published once stored; what the run publishes next waits for this (see `progressed`).
          progressed = store.updateTask(taskId, { percent: view.percent, ...(step ? { step } : {}) }, this.#fenced()).then(
            () => this.#events.emit(event),
            () => undefined,
          );
          void this.status.update(task.address, view);
        },
        park: async (wait) => {
          await progressed;
          task = await this.#park(task, wait, started);
        },
        openStream: (key) => new StreamedMessage({ store, delivery: this.#o.delivery, log, taskId, address: task.address, key }),
        fence: () => held.fence(),
        ...(this.#shared ? { leaseOwner: this.instanceId } : {}),
      });
      const result = await workflow.run(ctx, task.input as never);
      if (controller.signal.aborted) throw controller.signal.reason;
      // Also fails a run that caught a mismatch and went on, or never came to a call its history holds.
      replay.finish();
      await progressed;
      // The result is posted only by the process that still holds the task.
      await this.#complete(task, result, () => held.fence());
    } catch (error) {
      await progressed;
      await this.#settleFailure(task, error, controller.signal, started);
    } finally {
      lease?.stop();
      for (const timer of timers) clearInterval(timer);
      this.#running.delete(taskId);
      settle();
      if (this.#rerun.delete(taskId)) {
        if (this.#shared) this.#shared.wake();
        else this.#schedule(taskId);
      }
    }
  }

  async #settleFailure(task: Task, error: unknown, signal: AbortSignal, started: number): Promise<void> {
    const { store, log } = this.#o;
    const reason: unknown = signal.aborted ? signal.reason : error;
    if (error instanceof ParkSignal && !signal.aborted) return;
    if (reason instanceof LeaseLostSignal || error instanceof LeaseLostSignal) {
      // Another process runs it now: nothing more is written or posted from here.
      log.warn({ taskId: task.id }, "task taken over by another process; this run stops");
      this.status.forget(task.id);
      return;
    }
    if (reason instanceof ShutdownSignal) {
      // Leave it `running` with no lease: the next start (or another process at once) resumes it.
      await store.updateTask(task.id, { lease: undefined, elapsedMs: task.elapsedMs + (Date.now() - started) }, this.#fenced());
      this.status.forget(task.id);
      return;
    }
    if (reason instanceof TaskCancelledError) {
      await this.#finish(task, "cancelled", {}, undefined, true);
      return;
    }
    const message = reason instanceof TaskTimeoutError || reason instanceof ChatflowError ? reason.message : "The workflow hit an unexpected error.";
    this.#reportError(reason, task, "task failed", { taskId: task.id, workflow: task.workflow });
    await this.#finish(task, "failed", { error: message }, undefined, true);
  }

  /** Stores the wait and posts the question (once per wait key, via the outbox). */
  async #park(task: Task, wait: Omit<PendingWait, "token" | "askedAt">, started: number): Promise<Task> {
    const pending: PendingWait = { ...wait, token: newId(6), askedAt: Date.now() };
    const parked = await this.#o.store.updateTask(
      task.id,
      {
        status: "waiting",
        waiting: pending,
        lease: undefined,
        elapsedMs: task.elapsedMs + (Date.now() - started),
      },
      this.#fenced(),
    );
    if (!parked) {
      if (this.#shared) throw new LeaseLostSignal(task.id);
      return task;
    }
    this.#events.parked(parked, pending);
    this.#o.onSessionState?.(task.sessionId, "waiting");
    void this.status.update(parked.address, this.#view(parked, "waiting"));
    await this.#posts.questionTracked(parked);
    return parked;
  }

  async #reshowQuestion(task: Task): Promise<void> {
    const visible = this.#o.delivery.capabilities(task.address.platform).persistentMessages;
    await this.#posts.question(task, !visible);
  }

  async #complete(task: Task, result: TaskResult, fence: () => Promise<void>): Promise<void> {
    // Post first, then mark completed: a crash in between replays the (journaled) run and the outbox skips the post.
    // The final status comes last (see #finish): "done" is never shown for a task a crash could still resume.
    const posted = await this.#posts.result(task, result, fence);
    await this.#finish(task, "completed", { result: posted }, undefined, true);
  }

  /**
   * Ends a task in a final status (conditionally on `ifRev` when given), shows the final
   * status, tells the person when it failed, and frees the session for the next task.
   */
  async #finish(task: Task, status: TaskStatus, outcome: { result?: TaskResult; error?: string }, ifRev?: number, byRun = false): Promise<Task | undefined> {
    const { store, delivery } = this.#o;
    const now = Date.now();
    const ended = await store.updateTask(
      task.id,
      {
        status,
        finishedAt: now,
        lease: undefined,
        waiting: undefined,
        ...(status === "completed" ? { percent: 100 } : {}),
        ...(outcome.result ? { result: outcome.result } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
      },
      { ...(ifRev === undefined ? {} : { ifRev }), ...(byRun ? this.#fenced() : {}) },
    );
    if (!ended) return undefined;
    this.#events.ended(ended, outcome);
    // Only now that the final state is stored: shown earlier, a crash would resume the task and take it back.
    const final = this.status.final(ended.address, this.#view(ended, status === "completed" ? "completed" : status === "failed" ? "failed" : "cancelled", outcome.error ? { error: outcome.error } : {}));
    if (status === "failed") {
      const text = `Sorry, the task failed: ${outcome.error ?? "unknown error"}`;
      const outbox = await store.getOutbox(task.id);
      if (!outbox.has("error")) {
        const sent = await delivery.reply(ended.address, { kind: "notice", taskId: task.id, text });
        if (sent) await store.putOutbox(task.id, "error", { messageId: sent.id, platform: ended.address.platform, at: now });
      }
    }
    const next = this.#shared ? undefined : this.#lanes.release(ended.sessionId, ended.id);
    if (next) this.#schedule(next);
    // Shared: the session's next task may run here or in another process.
    this.#shared?.wake();
    this.#o.onSessionState?.(ended.sessionId, next ? "running" : "idle");
    // Shown without holding the task's concurrency slot; `idle()` waits for it, so it means everything is shown.
    if (status === "completed") {
      const shown = final.catch((error: unknown) => this.#o.log.warn({ err: error, taskId: task.id }, "final status not shown; it is shown at the next start"));
      this.#finals.add(shown);
      void shown.finally(() => this.#finals.delete(shown));
    } else void final;
    return ended;
  }
}
