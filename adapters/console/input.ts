import type { Action, InboundEvent, OutboundMessage } from "../../src/model.ts";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An inbound event before the adapter gives it an id and an address. */
export type LinePayload = DistributiveOmit<InboundEvent, "id" | "address">;

/** Whether a line is a slash command (`/status`, `/history 5`). */
export function isCommandLine(line: string): boolean {
  return /^\/[^\s/]/.test(line.trim());
}

/**
 * Maps one typed line to an event: `/name args` → command (name lower-cased, args trimmed);
 * a typed answer to the last question or review (see {@link TypedAnswers}) → action;
 * anything else → message. `line` must not be empty.
 */
export function parseLine(line: string, answers: TypedAnswers): LinePayload {
  const text = line.trim();
  if (isCommandLine(text)) {
    const [, name = "", args = ""] = /^\/(\S+)\s*([\s\S]*)$/.exec(text) ?? [];
    return { kind: "command", name: name.toLowerCase(), args: args.trim() };
  }
  return answers.take(text) ?? { kind: "message", text };
}

/**
 * Remembers the actions of the last message that had any, so the person can answer
 * by typing instead of pressing buttons:
 * - `2` → the 2nd choice; `this month` → the choice with that label (case-insensitive);
 * - `approve` / `a` / `yes` → approve; `reject [reason]` → reject with `feedback`; `edit` → edit.
 * Forgotten once used, when a newer message with actions arrives, or when their task ends.
 */
export class TypedAnswers {
  #actions: readonly Action[] = [];
  /** The task the remembered actions belong to, so its result or end can forget them. */
  #taskId: string | undefined;

  /** Looks at every message shown to the person. */
  observe(message: OutboundMessage): void {
    if (message.actions && message.actions.length > 0) {
      this.#actions = message.actions;
      this.#taskId = message.taskId;
    } else if (this.#taskId !== undefined && message.taskId === this.#taskId && endsTask(message)) {
      this.clear();
    }
  }

  clear(): void {
    this.#actions = [];
    this.#taskId = undefined;
  }

  /** The action `text` answers, if any; the remembered actions are then forgotten. */
  take(text: string): Extract<LinePayload, { kind: "action" }> | undefined {
    const answer = this.#match(text.trim());
    if (answer) this.clear();
    return answer;
  }

  #match(text: string): Extract<LinePayload, { kind: "action" }> | undefined {
    const lower = text.toLowerCase();
    const choices = this.#actions.filter((action) => action.role === "choice");
    const byNumber = /^\d+$/.test(text) ? choices[Number(text) - 1] : undefined;
    const choice = byNumber ?? choices.find((action) => action.label.trim().toLowerCase() === lower);
    if (choice) return { kind: "action", actionId: choice.id };

    const withRole = (role: Action["role"]) => this.#actions.find((action) => action.role === role);
    const approve = withRole("approve");
    if (approve && (lower === "approve" || lower === "a" || lower === "yes")) return { kind: "action", actionId: approve.id };
    const edit = withRole("edit");
    if (edit && lower === "edit") return { kind: "action", actionId: edit.id };
    const reject = withRole("reject");
    const rejected = /^reject(?:\s+([\s\S]*))?$/i.exec(text);
    if (reject && rejected) {
      const reason = rejected[1]?.trim();
      return reason ? { kind: "action", actionId: reject.id, feedback: reason } : { kind: "action", actionId: reject.id };
    }
    return undefined;
  }
}

function endsTask(message: OutboundMessage): boolean {
  if (message.kind === "result") return true;
  const state = message.progress?.state;
  return state === "completed" || state === "failed" || state === "cancelled";
}
