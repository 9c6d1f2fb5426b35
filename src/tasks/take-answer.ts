import { derivedId } from "../ids.ts";
import { appendMessageOnce } from "../store/append-once.ts";
import type { Store } from "../store/port.ts";
import type { JournalEntry, Task } from "../store/records.ts";
import { answerEntry } from "./journal-call.ts";

/**
 * Takes the answer a task was resumed with, before its replay: a pressed answer enters the
 * session's history as the person's message (once: its id derives from the answering event),
 * then the answer is journaled with the question it answers, and cleared from the task. Each
 * write is idempotent, so a crash in between repeats nothing. Resolves the task as it then is.
 */
export async function takeAnswer(store: Store, task: Task, journal: Map<string, JournalEntry>): Promise<Task> {
  const { answer } = task;
  if (!answer) return task;
  const { said } = answer;
  if (said) await appendMessageOnce(store, { id: derivedId("a-", said.eventKey), sessionId: task.sessionId, role: "user", source: "user", text: said.text, ...(said.by ? { user: said.by } : {}), taskId: task.id, at: Date.now() });
  const entry = answerEntry(answer, Date.now());
  await store.appendJournal(task.id, answer.key, entry);
  journal.set(answer.key, entry);
  return (await store.updateTask(task.id, { answer: undefined })) ?? task;
}
