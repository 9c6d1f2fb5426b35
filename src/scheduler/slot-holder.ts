import type { Schedule } from "../store/records.ts";

/**
 * Who delivers a claimed slot, when several processes share the store: the claim writes this
 * process and a deadline beside the pending slot, and another process delivers a slot left
 * pending only once that deadline passed (its process died mid-fire). Alone on its store, a
 * process writes nothing extra and delivers every pending slot it finds (at start-up they are
 * all a dead process's).
 */
export class SlotHolder {
  constructor(
    private readonly instanceId: string,
    private readonly shared: boolean,
    /** How long a process may take to post a slot's text or start its workflow. */
    private readonly leaseMs: number,
    /** How long it may take to deliver a prompt schedule's slot (the model writes it first). */
    private readonly promptLeaseMs = 120_000,
  ) {}

  /** Written with a claim: this process delivers the slot. */
  hold(now: number, schedule: Pick<Schedule, "prompt">): Pick<Schedule, "pendingOwner" | "pendingUntil"> {
    return this.shared ? { pendingOwner: this.instanceId, pendingUntil: now + (schedule.prompt !== undefined ? this.promptLeaseMs : this.leaseMs) } : {};
  }

  /** Written when the slot is delivered or dropped. */
  static readonly released = { pendingOwner: undefined, pendingUntil: undefined } as const;

  /** The pending slot is being delivered by another live process: leave it alone. */
  heldElsewhere(schedule: Schedule, now: number): boolean {
    return this.shared && schedule.pendingOwner !== undefined && schedule.pendingOwner !== this.instanceId && (schedule.pendingUntil ?? 0) > now;
  }

  /** A pending slot this process takes over (or renews) before delivering it. */
  mustClaim(schedule: Schedule): boolean {
    return this.shared && schedule.pendingOwner !== this.instanceId;
  }
}
