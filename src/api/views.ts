import type { Message, Session } from "../model.ts";
import type { Schedule, Task } from "../port/index.ts";

/** How records look over the API: ISO times, nulls rather than absent fields, no internals (leases, journal keys, tokens). */

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function taskView(task: Task) {
  const wait = task.waiting;
  return {
    id: task.id,
    workflow: task.workflow,
    status: task.status,
    percent: task.percent,
    step: task.step ?? null,
    sessionId: task.sessionId,
    owner: task.owner,
    waitingFor: wait
      ? wait.kind === "ask"
        ? { kind: "question" as const, question: wait.question, ...(wait.choices ? { choices: wait.choices } : {}) }
        : { kind: "review" as const, question: wait.question, ...(wait.data !== undefined ? { data: wait.data } : {}), ...(wait.label ? { label: wait.label } : {}) }
      : null,
    result: task.result ? { text: task.result.text, ...(task.result.links?.length ? { links: task.result.links } : {}) } : null,
    error: task.error ?? null,
    cancelRequested: task.cancelRequested === true,
    attempts: task.attempts,
    createdAt: iso(task.createdAt)!,
    updatedAt: iso(task.updatedAt)!,
    startedAt: iso(task.startedAt),
    finishedAt: iso(task.finishedAt),
  };
}

export function sessionView(session: Session) {
  return {
    id: session.id,
    platform: session.platform,
    channel: session.channel,
    ...(session.thread ? { thread: session.thread } : {}),
    owner: session.owner,
    state: session.state,
    topic: session.topic ?? null,
    createdAt: iso(session.createdAt)!,
    updatedAt: iso(session.updatedAt)!,
    lastActiveAt: iso(session.lastActiveAt)!,
    closedAt: iso(session.closedAt),
  };
}

export function messageView(message: Message) {
  return {
    id: message.id,
    role: message.role,
    text: message.text,
    source: message.source,
    ...(message.user ? { user: message.user } : {}),
    ...(message.links?.length ? { links: message.links } : {}),
    ...(message.taskId ? { taskId: message.taskId } : {}),
    at: iso(message.at)!,
  };
}

export function scheduleView(schedule: Schedule, next: Date | null, sessionId: string | null) {
  return {
    id: schedule.id,
    cron: schedule.cron,
    timezone: schedule.timezone,
    sessionId,
    ...(schedule.text !== undefined ? { text: schedule.text } : {}),
    ...(schedule.prompt !== undefined ? { prompt: schedule.prompt, withHistory: schedule.withHistory ?? false } : {}),
    ...(schedule.workflow !== undefined ? { workflow: schedule.workflow, input: schedule.input } : {}),
    enabled: schedule.enabled,
    pausedReason: schedule.pausedReason ?? null,
    missedPolicy: schedule.missedPolicy,
    next: next ? next.toISOString() : null,
    lastError: schedule.lastError ?? null,
    origin: schedule.origin,
  };
}
