import type { Progress, ProgressState } from "../../src/model.ts";

/** Cells in the progress bar. */
export const PROGRESS_BAR_WIDTH = 14;

const STATE_WORDS: Record<Exclude<ProgressState, "running">, string> = {
  queued: "queued",
  waiting: "waiting for your answer",
  completed: "✓ done",
  failed: "✗ failed",
  cancelled: "cancelled",
};

/**
 * One line of progress, e.g. `[██████░░░░░░░░]  40%  Collecting sources`.
 * While running it names the step (or `label`, or "working"); in other states it says the state.
 */
export function formatProgressLine(progress: Progress, label?: string): string {
  const percent = Number.isFinite(progress.percent) ? Math.min(100, Math.max(0, Math.round(progress.percent))) : 0;
  const filled = Math.round((percent / 100) * PROGRESS_BAR_WIDTH);
  const bar = "█".repeat(filled) + "░".repeat(PROGRESS_BAR_WIDTH - filled);
  const words = progress.state === "running" ? progress.step || label || "working" : STATE_WORDS[progress.state];
  return `[${bar}] ${String(percent).padStart(3)}%  ${words}`;
}
