import type { Action, OutboundMessage } from "../model.ts";
import type { PendingWait, Task } from "../store/records.ts";

/** What a button of a question or review means. */
export type ActionValue = { type: "choice"; index: number } | { type: "approve" } | { type: "reject" } | { type: "edit" } | { type: "cancel" };

const PREFIX = "cf";

/**
 * Action ids: `cf:<taskId>:<token>:<value>`, at most ~40 bytes whatever the ids
 * (Telegram allows 64). The token belongs to one wait, so an old button never answers a newer question.
 */
export function encodeAction(taskId: string, token: string, value: ActionValue): string {
  const tail = value.type === "choice" ? String(value.index) : value.type;
  return `${PREFIX}:${taskId}:${token}:${tail}`;
}

export interface DecodedAction {
  taskId: string;
  token: string;
  value: ActionValue;
}

/** Whether an action id was made by the engine (an adapter sharing a bot with other code tells its buttons apart by it). */
export function isActionId(actionId: string): boolean {
  return actionId.startsWith(`${PREFIX}:`);
}

/** Parses an action id; undefined when it isn't one of ours or is malformed. */
export function decodeAction(actionId: string): DecodedAction | undefined {
  const parts = actionId.split(":");
  if (parts.length !== 4 || parts[0] !== PREFIX) return undefined;
  const [, taskId, token, tail] = parts as [string, string, string, string];
  if (!taskId || !token) return undefined;
  if (tail === "approve" || tail === "reject" || tail === "edit" || tail === "cancel") return { taskId, token, value: { type: tail } };
  if (/^\d{1,3}$/.test(tail)) return { taskId, token, value: { type: "choice", index: Number(tail) } };
  return undefined;
}

/** The message that asks the person: choices as buttons, a review with approve / reject / edit. */
export function questionMessage(task: Task, wait: PendingWait): OutboundMessage {
  const cancel: Action = { id: encodeAction(task.id, wait.token, { type: "cancel" }), label: "Cancel task", role: "cancel", style: "danger" };
  if (wait.kind === "review") {
    return {
      kind: "review",
      taskId: task.id,
      text: wait.question,
      review: { data: wait.data ?? "", ...(wait.label ? { label: wait.label } : {}) },
      actions: [
        { id: encodeAction(task.id, wait.token, { type: "approve" }), label: "Approve", role: "approve", style: "primary" },
        { id: encodeAction(task.id, wait.token, { type: "reject" }), label: "Reject", role: "reject", style: "danger" },
        { id: encodeAction(task.id, wait.token, { type: "edit" }), label: "Edit", role: "edit" },
      ],
    };
  }
  if (wait.choices && wait.choices.length > 0) {
    return {
      kind: "question",
      taskId: task.id,
      text: wait.question,
      actions: [
        ...wait.choices.map((label, index): Action => ({ id: encodeAction(task.id, wait.token, { type: "choice", index }), label, role: "choice" })),
        cancel,
      ],
    };
  }
  return { kind: "question", taskId: task.id, text: wait.question, expectsText: true };
}
