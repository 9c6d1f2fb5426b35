import type { Logger } from "../logger.ts";
import type { Adapter } from "../port/adapter.ts";
import type { Leadership } from "../store/coordination.ts";

type Receiver = NonNullable<Adapter["singleReceiver"]>;

export interface LeaderGateOptions {
  leadership: Leadership;
  /** This process. */
  owner: string;
  /** How long a lead lasts without renewal; renewed every third of it. */
  leaseMs: number;
  receivers: Receiver[];
  log: Logger;
}

/**
 * Connections only one process may hold, when several share the store: this process tries to
 * lead each (a lease in the store), receives while it leads, and stops receiving as soon as it
 * may have lost the lead: when the store says another process holds it, or when renewals have
 * failed for longer than the lease (a partition: the others may have taken over meanwhile).
 */
export class LeaderGate {
  readonly #o: LeaderGateOptions;
  readonly #leading = new Set<string>();
  /** Local time until which each lead surely holds. */
  readonly #until = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(options: LeaderGateOptions) {
    this.#o = options;
  }

  /** The names this process leads now. */
  leads(): string[] {
    return [...this.#leading];
  }

  /** Tries once at once (resolves when that try is done), then every third of the lease. */
  async start(): Promise<void> {
    this.#timer = setInterval(() => void this.#tick(), Math.max(50, this.#o.leaseMs / 3));
    this.#timer.unref();
    await this.#tick();
  }

  /** Stops receiving and gives every lead up, so another process takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#round;
    for (const receiver of this.#o.receivers) {
      if (!this.#leading.has(receiver.name)) continue;
      await this.#set(receiver, false);
      await this.#o.leadership.resign(receiver.name, this.#o.owner).catch(() => undefined);
    }
  }

  #tick(): Promise<void> {
    if (this.#round || this.#stopped) return this.#round ?? Promise.resolve();
    this.#round = (async () => {
      for (const receiver of this.#o.receivers) await this.#check(receiver);
    })().finally(() => (this.#round = undefined));
    return this.#round;
  }

  async #check(receiver: Receiver): Promise<void> {
    const { leadership, owner, leaseMs, log } = this.#o;
    const asked = Date.now();
    let held: boolean;
    try {
      held = await leadership.lead(receiver.name, owner, leaseMs);
    } catch (error) {
      // The store can't be reached: keep receiving only while the lead surely holds.
      held = asked < (this.#until.get(receiver.name) ?? 0);
      log.warn({ err: error, lead: receiver.name }, held ? "lead not renewed; still held" : "lead not renewed and ran out; receiving stops");
    }
    if (this.#stopped) return;
    if (held) this.#until.set(receiver.name, asked + leaseMs);
    await this.#set(receiver, held);
  }

  async #set(receiver: Receiver, on: boolean): Promise<void> {
    if (on === this.#leading.has(receiver.name)) return;
    try {
      await receiver.receive(on);
      if (on) this.#leading.add(receiver.name);
      else this.#leading.delete(receiver.name);
      this.#o.log.info({ lead: receiver.name, instance: this.#o.owner }, on ? "leading: receiving here" : "no longer leading: receiving stopped here");
    } catch (error) {
      this.#o.log.warn({ err: error, lead: receiver.name }, on ? "could not start receiving; trying again" : "could not stop receiving");
      // Not leading what doesn't run: give the lead up so another process may take it.
      if (on) await this.#o.leadership.resign(receiver.name, this.#o.owner).catch(() => undefined);
    }
  }
}
