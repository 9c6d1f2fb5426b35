import type { Address } from "../model.ts";

/** What to do with slots missed while the bot was down, applied at start-up. */
export type MissedPolicy = "skip" | "latest" | "all";

/** A stored schedule: on each cron slot, post `text` or run `workflow` with `input`. */
export interface Schedule {
  id: string;
  /** Revision, bumped by every update; slot claims are conditional on it. */
  rev: number;
  /** Cron expression (5 fields, or 6 with seconds first), as croner reads it. */
  cron: string;
  /** IANA timezone the expression is read in. */
  timezone: string;
  /** Where the post goes; `user` is who made the schedule (or `scheduler` for config ones). */
  target: Address;
  text?: string;
  workflow?: string;
  input?: unknown;
  enabled: boolean;
  /** Why it was paused, when it was paused by the scheduler or a person. */
  pausedReason?: string;
  missedPolicy: MissedPolicy;
  /** The latest slot claimed (epoch ms): a slot fires only if it is later than this. */
  lastSlot?: number;
  /** A claimed slot not yet delivered (a restart delivers it). */
  pendingSlot?: number;
  /** Consecutive delivery failures to a target that is gone. */
  failures: number;
  lastError?: string;
  lastFiredAt?: number;
  /** `config`: from the configuration file (kept in sync with it); `chat`: made with /schedule. */
  origin: "config" | "chat";
  createdAt: number;
  updatedAt: number;
}
