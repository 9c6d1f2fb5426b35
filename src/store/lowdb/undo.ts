/**
 * Undoing in-memory changes whose `state.log` line could not be written.
 *
 * Why: a change is applied to memory first (so a conditional update checks and changes in one
 * synchronous step) and written after. When the write fails the caller gets an error, so
 * memory must go back to what disk holds; otherwise the change would be served, and written
 * by the next snapshot, though the caller was told it was not stored.
 *
 * Each change remembers the value it replaced at each place it touched. Changes to one place
 * still in flight are kept in order: when one fails and it is the latest, its old value is put
 * back; when a later change is in flight, that later change inherits the old value (so if it
 * fails too, memory goes back past both; if it succeeds, it is on disk and nothing is undone).
 * A task delete restores the journal and outbox entries it removed, keeping any written since.
 */
import { refsOf, type LogRecord, type RecordRef, type State } from "./state.ts";

interface Change {
  readonly slot: string;
  readonly ref: RecordRef;
  prev: unknown;
}

function slotOf(ref: RecordRef): string {
  switch (ref.kind) {
    case "journal":
    case "outbox":
      return `${ref.kind}\u0000${ref.task}\u0000${ref.key}`;
    case "journalAll":
    case "outboxAll":
      return `${ref.kind}\u0000${ref.task}`;
    case "feedSeq":
      return "feedSeq";
    default:
      return `${ref.kind}\u0000${ref.id}`;
  }
}

/** The changes in flight, by place. */
export class PendingChanges {
  readonly #bySlot = new Map<string, Change[]>();

  constructor(private readonly state: State) {}

  /** Call just before `state.apply(r)`: remembers what `r` replaces. Hand the result to `settle`. */
  track(r: LogRecord): readonly Change[] {
    const refs = refsOf(r);
    const changes: Change[] = [];
    for (const ref of refs) {
      const change: Change = { slot: slotOf(ref), ref, prev: this.state.get(ref) };
      const list = this.#bySlot.get(change.slot);
      if (list) list.push(change);
      else this.#bySlot.set(change.slot, [change]);
      changes.push(change);
    }
    return changes;
  }

  /** The write of these changes succeeded (`ok`) or failed (memory goes back, see above). */
  settle(changes: readonly Change[], ok: boolean): void {
    for (let i = changes.length - 1; i >= 0; i--) {
      const change = changes[i]!;
      const list = this.#bySlot.get(change.slot);
      const at = list ? list.indexOf(change) : -1;
      if (!list || at === -1) continue;
      if (!ok) {
        const next = list[at + 1];
        if (next) next.prev = change.prev;
        else this.state.set(change.ref, change.prev);
      }
      list.splice(at, 1);
      if (list.length === 0) this.#bySlot.delete(change.slot);
    }
  }
}
