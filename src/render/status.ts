import type { OutboundMessage, ProgressState } from "../model.ts";
import { progressBar } from "./progress-bar.ts";

export interface StatusView {
  taskId: string;
  workflow: string;
  state: ProgressState;
  percent: number;
  step?: string;
  /** Why it failed, for `failed`. */
  error?: string;
}

const HEADLINE: Record<ProgressState, string> = {
  queued: "Queued",
  running: "Working",
  waiting: "Waiting for your answer",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** The platform-neutral status message of a task; adapters may draw `progress` natively. */
export function statusMessage(view: StatusView): OutboundMessage {
  const parts = [`${HEADLINE[view.state]} · ${view.workflow}`];
  if (view.state === "running" || view.state === "waiting") {
    parts.push(`${progressBar(view.percent)} ${view.percent}%${view.step ? ` · ${view.step}` : ""}`);
  }
  if (view.state === "failed" && view.error) parts.push(view.error);
  return {
    kind: "status",
    text: parts.join("\n"),
    progress: { percent: view.percent, state: view.state, ...(view.step ? { step: view.step } : {}) },
    taskId: view.taskId,
  };
}
