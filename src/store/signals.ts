/**
 * Wake-ups between processes sharing one store (PostgreSQL: NOTIFY on one channel, heard by
 * one LISTEN connection per process). A signal is a hint, never the truth: whoever hears one
 * reads the store, and a missed one costs only latency (the runner's sweep and the scheduler's
 * reload find the same work). Stores shared by one process only (lowdb, memory) have none.
 */
export type SignalTopic =
  /** A task became runnable (created, answered, released by its session's previous task). */
  | "work"
  /** Someone asked to cancel a task (payload: the task id): the process running it aborts it. */
  | "cancel"
  /** Schedules were added, changed or removed. */
  | "schedules";

export interface StoreSignals {
  /** Tells every process on this store, this one included. Never rejects (a lost hint is logged). */
  signal(topic: SignalTopic, payload?: string): Promise<void>;
  /** Hears every signal; the function returned stops listening. After a reconnect, `listener("work", "")` and `("schedules", "")` are called once, as anything may have been missed. */
  onSignal(listener: (topic: SignalTopic, payload: string) => void): () => void;
}

export function hasSignals(store: object): store is StoreSignals {
  return typeof (store as Partial<StoreSignals>).signal === "function" && typeof (store as Partial<StoreSignals>).onSignal === "function";
}
