/**
 * The one chat platform of the multi-instance tests, played by the test process: every
 * chatflow instance (a child process with the IPC adapter) posts here and gets message ids
 * back; each inbound event goes to one live instance, picked at random (as Slack hands a
 * Socket Mode event to one of the app's connections), and an event not acknowledged within
 * `redeliverMs` (its instance died or stalled) goes to another one, as platforms retry.
 */
import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Address, InboundEvent, OutboundMessage } from "../../src/model.ts";

export interface Post {
  id: string;
  /** The instance that posted or edited. */
  from: string;
  address: Address;
  message: OutboundMessage;
}

export interface Instance {
  id: string;
  child: ChildProcess;
  url: string | undefined;
  ready: boolean;
  /** SIGSTOPped: alive, but deaf. */
  paused: boolean;
  exited: Promise<void>;
}

export class Platform extends EventEmitter {
  readonly instances: Instance[] = [];
  readonly sends: Post[] = [];
  readonly edits: Post[] = [];
  readonly #keys = new Map<string, string>();
  readonly #events = new Map<string, { event: InboundEvent; to: string; at: number }>();
  readonly #acked = new Set<string>();
  #counter = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly redeliverMs = 3000,
  ) {
    super();
    this.#timer = setInterval(() => this.#redeliver(), 250);
  }

  /** Starts an instance; resolves once its bot runs. */
  async spawn(id: string): Promise<Instance> {
    const child = fork(this.script, [], { execArgv: ["--import", "tsx"], env: { ...process.env, ...this.env, CHATFLOW_INSTANCE_ID: id }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const instance: Instance = { id, child, url: undefined, ready: false, paused: false, exited: new Promise((resolve) => child.once("exit", () => resolve())) };
    this.instances.push(instance);
    const ready = new Promise<void>((resolve, reject) => {
      child.once("exit", (code, signal) => reject(new Error(`instance ${id} exited before it was ready (${code ?? signal})`)));
      child.on("message", (raw) => {
        const message = raw as { type: string; url?: string };
        if (message.type === "ready") {
          instance.url = message.url;
          instance.ready = true;
          resolve();
        }
      });
    });
    child.on("message", (raw) => this.#onMessage(instance, raw as never));
    await ready;
    return instance;
  }

  live(): Instance[] {
    return this.instances.filter((i) => i.ready && !i.paused && i.child.exitCode === null && i.child.signalCode === null);
  }

  /** Any live instance but `avoid` (when there is another). */
  pick(avoid?: string): Instance {
    const live = this.live();
    const others = live.filter((i) => i.id !== avoid);
    const from = others.length > 0 ? others : live;
    if (from.length === 0) throw new Error("no live instance");
    return from[Math.floor(Math.random() * from.length)]!;
  }

  /** Hands an event to one live instance (not `avoid`, when another is live). */
  deliver(event: InboundEvent, avoid?: string): void {
    const to = this.pick(avoid);
    this.#events.set(event.id, { event, to: to.id, at: Date.now() });
    // An instance killed a moment ago may have closed its channel: the event is redelivered elsewhere.
    if (to.child.connected) to.child.send({ type: "event", event }, () => undefined);
  }

  #redeliver(): void {
    const now = Date.now();
    for (const [id, pending] of this.#events) {
      if (this.#acked.has(id) || now - pending.at < this.redeliverMs || this.live().length === 0) continue;
      this.deliver(pending.event, pending.to);
    }
  }

  #onMessage(instance: Instance, message: { type: string; op?: string; id?: number; eventId?: string; message?: OutboundMessage; messageId?: string; key?: string; address?: Address }): void {
    if (message.type === "ack") {
      this.#acked.add(message.eventId!);
      this.#events.delete(message.eventId!);
      return;
    }
    if (message.type !== "call") return;
    const reply = (result: unknown) => {
      if (instance.child.connected) instance.child.send({ type: "result", id: message.id, result }, () => undefined);
    };
    if (message.op === "send") {
      const id = `p${++this.#counter}`;
      if (message.message!.key) this.#keys.set(message.message!.key, id);
      const post = { id, from: instance.id, address: message.address!, message: message.message! };
      this.sends.push(post);
      reply({ id });
      this.emit("send", post);
    } else if (message.op === "edit") {
      const post = { id: message.messageId!, from: instance.id, address: message.address!, message: message.message! };
      this.edits.push(post);
      reply(null);
      this.emit("edit", post);
    } else if (message.op === "recall") {
      const id = this.#keys.get(message.key!);
      reply(id ? { id } : null);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const instance of this.instances) {
      if (instance.paused) instance.child.kill("SIGCONT");
      if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill("SIGKILL");
      await instance.exited;
    }
  }
}
