/**
 * Replay checks what it replays: every durable call of a run (step, ask, review, stream) is
 * compared with what the journal recorded for it, and a run whose code now asks something
 * else than the history holds stops with a NonDeterminismError instead of receiving a result
 * or an answer that belongs to another call (Temporal's non-determinism error is the model).
 */
import { ChatflowError } from "../errors.ts";
import type { JournalCall, JournalEntry } from "../store/records.ts";
import { describeCall } from "./journal-call.ts";

/**
 * A task's history no longer matches its workflow's code: the code changed while the task
 * waited (a deploy), or the code between steps is not deterministic. The task fails with
 * this message (it is not retried: a retry would replay the same mismatch).
 */
export class NonDeterminismError extends ChatflowError {
  /**
   * @param workflow the workflow's name
   * @param where where they part: a journal key (`ask#0`) or a position among the run's calls (`position 2`)
   * @param recorded what the history holds there: `ask "Which period?" (ask#0)`
   * @param requested what the code does instead: `now asks for review "Publish?" (review#0)`, `finished without it`
   */
  constructor(
    readonly workflow: string,
    readonly where: string,
    readonly recorded: string,
    readonly requested: string,
  ) {
    super(
      "workflow",
      `The "${workflow}" workflow no longer matches this task's history at ${where}: the history holds ${recorded}, but the code ${requested}. ` +
        "Its code changed while the task waited, or is not deterministic; the task stopped rather than give a stored answer or result to something else. Start it again.",
    );
  }
}

/** A call the code makes now, to be checked against the journal. */
export interface CodeCall {
  /** Its journal key: `step:draft#0`, `ask#1`, `ask:scope#0`. */
  key: string;
  /** What it is; `seq` is assigned by the check. */
  call: Omit<JournalCall, "seq">;
  /** Addressed by an explicit `id` (not by order): it may move without being a mismatch. */
  byId: boolean;
}

/**
 * The check of one run against the journal it replays. Calls addressed by order take the
 * next position, and the journal's entry at that position (if it recorded one) must be the
 * same call; a call found under its key must have the same kind and fingerprint. Entries
 * written before the journal recorded calls carry neither and replay unchecked.
 */
export class ReplayCheck {
  readonly #workflow: string;
  readonly #journal: ReadonlyMap<string, JournalEntry>;
  /** Position → key of the recorded calls addressed by order. */
  readonly #byPosition = new Map<number, string>();
  /**
   * Recorded calls addressed by order that this run has not come to yet: at the end, each is
   * one the code no longer makes. Asks and reviews with an `id` are not among them: their
   * author may retire an id (a question asked anew under a new id sets the old answer aside).
   */
  readonly #pending = new Set<string>();
  #position = 0;
  /** Kept so that a workflow that swallows the error (a catch-all) still fails. */
  #failure: NonDeterminismError | undefined;

  constructor(workflow: string, journal: ReadonlyMap<string, JournalEntry>) {
    this.#workflow = workflow;
    this.#journal = journal;
    for (const [key, entry] of journal) {
      if (entry.fingerprint === undefined) continue;
      const byId = (entry.kind === "ask" || entry.kind === "review") && entry.id !== undefined;
      if (!byId) this.#pending.add(key);
      if (entry.seq !== undefined) this.#byPosition.set(entry.seq, key);
    }
  }

  /**
   * Checks the code's next call; returns its journal entry (when it has one) and the call as
   * it is to be recorded. Throws NonDeterminismError when the history holds something else.
   */
  replay(code: CodeCall): { entry: JournalEntry | undefined; call: JournalCall } {
    if (this.#failure) throw this.#failure;
    const seq = code.byId ? undefined : this.#position++;
    const call: JournalCall = seq === undefined ? { ...code.call } : { ...code.call, seq };
    const asked = `${describeCall(call)} (${code.key})`;
    if (seq !== undefined) {
      const held = this.#byPosition.get(seq);
      if (held !== undefined && held !== code.key) this.#fail(`position ${seq}`, this.#recorded(held), `now asks for ${asked}`);
    }
    const entry = this.#journal.get(code.key);
    if (entry?.fingerprint !== undefined) {
      this.#pending.delete(code.key);
      if (entry.kind !== call.kind || entry.fingerprint !== call.fingerprint) {
        // Same words shown, other fingerprint: what differs is past the shown text, or the choices or draft.
        const how = describeCall(entry) === describeCall(call) ? " asked differently (its full text, choices or draft changed)" : "";
        this.#fail(code.key, this.#recorded(code.key), `now asks for ${asked}${how}`);
      }
      if (entry.seq !== undefined && seq !== undefined && entry.seq !== seq) {
        this.#fail(code.key, `${this.#recorded(code.key)} at position ${entry.seq}`, `now asks for it at position ${seq}`);
      }
    }
    return { entry, call };
  }

  /** Called when the run returns: a recorded call the code never came to is a mismatch too (an answer given to a question no longer asked). */
  finish(): void {
    if (this.#failure) throw this.#failure;
    const left = [...this.#pending].sort((a, b) => (this.#journal.get(a)?.seq ?? Infinity) - (this.#journal.get(b)?.seq ?? Infinity))[0];
    if (left !== undefined) this.#fail(left, this.#recorded(left), "finished without it");
  }

  #recorded(key: string): string {
    return `${describeCall(this.#journal.get(key) ?? {})} (${key})`;
  }

  #fail(where: string, recorded: string, requested: string): never {
    this.#failure = new NonDeterminismError(this.#workflow, where, recorded, requested);
    throw this.#failure;
  }
}
