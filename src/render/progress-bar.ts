/** A text progress bar, e.g. `▓▓▓▓░░░░░░` for 40 % at width 10. */
export function progressBar(percent: number, width = 10, full = "▓", empty = "░"): string {
  const clamped = Math.max(0, Math.min(100, percent));
  const filled = Math.round((clamped / 100) * width);
  return full.repeat(filled) + empty.repeat(width - filled);
}

/** Clamps and rounds a percentage to an integer in 0..100 (NaN → 0). */
export function clampPercent(percent: number): number {
  if (!Number.isFinite(percent)) return 0;
  return Math.max(0, Math.min(100, Math.round(percent)));
}
