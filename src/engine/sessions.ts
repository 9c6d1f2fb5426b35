import { ChatflowError } from "../errors.ts";
import { newId } from "../ids.ts";
import { sessionKey, type Address, type Session, type SessionState } from "../model.ts";
import type { Page, PageRequest, SessionFilter, Store } from "../store/port.ts";

/** Sessions: one open session per address key, closed by `/new` or after `maxIdleMs` of inactivity. */
export class Sessions {
  /** Told of every session created, for those who follow a person's sessions as they appear. */
  readonly #created = new Set<(session: Session) => void>();
  readonly #store: Store;
  readonly #maxIdleMs: number;

  constructor(store: Store, maxIdleMs: number) {
    this.#store = store;
    this.#maxIdleMs = maxIdleMs;
  }

  /** The open session for this address (a new one when there is none or it went idle too long), touched. */
  async open(address: Address, now = Date.now()): Promise<Session> {
    const key = sessionKey(address);
    const current = await this.#store.findOpenSession(key);
    if (current) {
      const stale = current.state === "idle" && now - current.lastActiveAt > this.#maxIdleMs;
      if (!stale) return (await this.#store.updateSession(current.id, { lastActiveAt: now, updatedAt: now })) ?? current;
      await this.close(current.id, now);
    }
    return this.#create(address, now);
  }

  /** Closes the open session of this address and opens a fresh one (`/new`). */
  async renew(address: Address, now = Date.now()): Promise<Session> {
    const current = await this.#store.findOpenSession(sessionKey(address));
    if (current) await this.close(current.id, now);
    return this.#create(address, now);
  }

  async close(id: string, now = Date.now()): Promise<void> {
    await this.#store.updateSession(id, { state: "closed", closedAt: now, updatedAt: now });
  }

  async setState(id: string, state: Exclude<SessionState, "closed">): Promise<void> {
    const session = await this.#store.getSession(id);
    if (!session || session.state === "closed" || session.state === state) return;
    await this.#store.updateSession(id, { state, updatedAt: Date.now() });
  }

  /** Closes idle sessions inactive for longer than `maxIdleMs`; returns how many. */
  async closeIdle(now = Date.now()): Promise<number> {
    let closed = 0;
    for (;;) {
      const page = await this.#store.listSessions({ state: "idle", activeBefore: now - this.#maxIdleMs }, { limit: 500 });
      for (const session of page.items) await this.close(session.id, now);
      closed += page.items.length;
      if (page.items.length === 0 || !page.nextCursor) return closed;
    }
  }

  list(filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>> {
    return this.#store.listSessions(filter, page);
  }

  async #create(address: Address, now: number): Promise<Session> {
    const session: Session = {
      id: newId(),
      key: sessionKey(address),
      platform: address.platform,
      channel: address.channel,
      ...(address.thread ? { thread: address.thread } : {}),
      owner: address.user,
      state: "idle",
      createdAt: now,
      updatedAt: now,
      lastActiveAt: now,
    };
    try {
      await this.#store.createSession(session);
    } catch (error) {
      // Another process opened this key's session first (stores shared by several processes): that one is the session.
      if (!(error instanceof ChatflowError && error.code === "conflict")) throw error;
      const winner = await this.#store.findOpenSession(session.key);
      if (!winner) throw error;
      return winner;
    }
    // Synchronously, before anything can publish an event of the new session.
    for (const listener of this.#created) listener(session);
    return session;
  }

  /**
   * A session this process heard of from a store it shares (another process opened it): told
   * to the `onCreated` listeners like one opened here. Listeners may hear of a session twice.
   */
  async seen(sessionId: string): Promise<void> {
    if (this.#created.size === 0) return;
    const session = await this.#store.getSession(sessionId);
    if (session) for (const listener of this.#created) listener(session);
  }

  /** Calls `listener` with each session created from now on; returns the function that stops it. */
  onCreated(listener: (session: Session) => void): () => void {
    this.#created.add(listener);
    return () => void this.#created.delete(listener);
  }
}
