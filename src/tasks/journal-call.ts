/**
 * What each durable call of a workflow is (kind, id, a fingerprint of what it asks), as
 * recorded in the journal beside its result and compared on replay (see replay-check.ts).
 */
import { createHash } from "node:crypto";
import type { JournalCall, JournalEntry, PendingWait } from "../store/records.ts";

/** How much of a question the journal keeps to name it in a mismatch. */
const LABEL_CHARS = 80;

/** 16 hex digits of sha256: enough to tell two questions apart, short enough to store on every entry. */
function fingerprint(parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

function label(question: string): string {
  const flat = String(question).replace(/\s+/g, " ").trim();
  return flat.length > LABEL_CHARS ? `${flat.slice(0, LABEL_CHARS - 1)}…` : flat;
}

/** A `ctx.step`: identified by its id. */
export function stepCall(id: string): JournalCall {
  return { kind: "step", id, fingerprint: fingerprint(["step", id]) };
}

/** A `ctx.stream`: identified by its name. */
export function streamCall(name: string): JournalCall {
  return { kind: "stream", id: name, fingerprint: fingerprint(["stream", name]) };
}

/** A `ctx.ask`: its question and the choices offered (after blank ones are dropped). */
export function askCall(question: string, choices: readonly string[] | undefined, id: string | undefined): JournalCall {
  return { kind: "ask", ...(id !== undefined ? { id } : {}), fingerprint: fingerprint(["ask", question, choices ?? []]), label: label(question) };
}

/** A `ctx.review`: its question and the draft under review (a verdict on another draft is no verdict on this one). */
export function reviewCall(question: string, data: string, id: string | undefined): JournalCall {
  return { kind: "review", ...(id !== undefined ? { id } : {}), fingerprint: fingerprint(["review", question, data]), label: label(question) };
}

/**
 * The call a stored wait was parked on, rebuilt from what the wait keeps (its question,
 * choices or draft): also for waits stored before the journal recorded calls, so an answer
 * given to a question the new code no longer asks is noticed across an upgrade too.
 */
export function waitCall(wait: PendingWait): JournalCall {
  const call = wait.kind === "ask" ? askCall(wait.question, wait.choices, wait.id) : reviewCall(wait.question, wait.data ?? "", wait.id);
  return wait.seq === undefined ? call : { ...call, seq: wait.seq };
}

/** The journal entry of an accepted answer, with the call it answers when known. */
export function answerEntry(answer: { value: unknown; call?: JournalCall }, at: number): JournalEntry {
  return { ...answer.call, value: answer.value, at };
}

/** A call as people read it in an error: `ask "Which period?"`, `step "draft"` (an ask's `id` shows in its key, given beside it). */
export function describeCall(call: Partial<JournalCall>): string {
  const kind = call.kind ?? "call";
  if (kind === "step" || kind === "stream") return `${kind} "${call.id ?? "?"}"`;
  return call.label !== undefined ? `${kind} "${call.label}"` : kind;
}
