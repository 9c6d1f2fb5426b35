import { AsyncLocalStorage } from "node:async_hooks";
import type { Config } from "../config/schema.ts";
import type { HandleOutcome } from "../port/host.ts";
import type { EngineStats } from "../stats.ts";
import type { Logger } from "../logger.ts";
import type { Address, InboundCommand, InboundEvent, InboundMessage, Session } from "../model.ts";
import { ChatflowError, RateLimitError } from "../errors.ts";
import { derivedId } from "../ids.ts";
import { appendMessageOnce } from "../store/append-once.ts";
import type { Store } from "../store/port.ts";
import { Answers } from "../tasks/answers.ts";
import type { TaskRunner } from "../tasks/runner.ts";
import type { Task } from "../store/records.ts";
import type { Workflow } from "../tasks/workflow.ts";
import { BUILTIN_COMMANDS, type BuiltinCommand } from "./commands.ts";
import { inboundEventSchema } from "./inbound-schema.ts";
import { describeIssues } from "../config/load.ts";
import type { Delivery } from "../delivery.ts";
import type { ReportError } from "../error-hook.ts";
import { routeFor } from "./routes.ts";
import { SessionBusyError, type TaskStarts } from "./task-start.ts";
import type { Sessions } from "./sessions.ts";

/** One event being handled. */
interface Turn {
  key: string;
  session?: Session;
  replies: string[];
}

const HANDLED: HandleOutcome = Object.freeze({ kind: "handled" });
const DUPLICATE: HandleOutcome = Object.freeze({ kind: "duplicate" });

/** How long an event id is remembered for de-duplication (Slack retries for up to ~5 min). */
const DEDUPE_TTL_MS = 24 * 60 * 60 * 1000;

export interface EngineParts {
  config: Config;
  store: Store;
  delivery: Delivery;
  sessions: Sessions;
  runner: TaskRunner;
  answers: Answers;
  workflows: ReadonlyMap<string, Workflow<any>>;
  log: Logger;
  /** Commands besides the built-in ones (e.g. /schedule). */
  extraCommands?: readonly BuiltinCommand[];
  /** Where re-delivered events are counted (metrics). */
  stats?: EngineStats;
  /** The one door tasks start through. */
  starts: TaskStarts;
  /** Where handled errors go: the log, and the bot's `onError`. */
  report: ReportError;
}

/**
 * Inbound routing: de-duplication, sessions and history, commands, answers to waiting
 * tasks, and new tasks. Every effect of an event is idempotent (ids derived from the event),
 * and the event is marked seen only at the end, so an event re-delivered after a crash is
 * processed to completion exactly once.
 */
export class Engine {
  readonly #p: EngineParts;
  /** Event keys being processed now, to drop a concurrent re-delivery. */
  readonly #inflight = new Set<string>();
  /** The event being handled in this async flow: its key, its session once known, and what was replied to it. */
  readonly #turn = new AsyncLocalStorage<Turn>();

  constructor(parts: EngineParts) {
    this.#p = parts;
  }

  /** The adapters' inbound handler. Never rejects: failures are logged and answered. */
  readonly handle = async (event: InboundEvent): Promise<HandleOutcome> => {
    const checked = inboundEventSchema.safeParse(event);
    if (!checked.success) {
      // A malformed event from an adapter: nobody to answer reliably, so log it and go on.
      this.#p.log.warn({ issues: describeIssues(checked.error.issues) }, "malformed inbound event ignored");
      return HANDLED;
    }
    const key = `${event.address.platform}:${event.id}`;
    if (this.#inflight.has(key)) {
      this.#p.stats?.duplicateEvents.inc({ platform: event.address.platform });
      return DUPLICATE;
    }
    this.#inflight.add(key);
    try {
      if (await this.#p.store.hasEvent(key)) {
        this.#p.log.debug({ eventKey: key }, "duplicate event ignored");
        this.#p.stats?.duplicateEvents.inc({ platform: event.address.platform });
        return DUPLICATE;
      }
      const turn: Turn = { key, replies: [] };
      const outcome = await this.#turn.run(turn, () => this.#dispatch(event, key));
      // A refusal for the limit is not remembered: the same event sent again later may start its task.
      if (outcome.kind !== "limited") await this.#p.store.claimEvent(key, Date.now() + DEDUPE_TTL_MS);
      // What the bot answered, for a caller that answers for the event (the HTTP API).
      if (outcome.kind === "handled" && turn.replies.length > 0) return { kind: "handled", replies: turn.replies };
      return outcome;
    } catch (error) {
      this.#p.report(error, { where: "inbound", event }, "inbound event failed", { eventKey: key, kind: event.kind });
      // A store that can't write lost this message: say so, rather than act as if it arrived.
      const text =
        error instanceof ChatflowError && error.code === "store"
          ? "Sorry, I couldn't save that, so it was not received: my storage is failing. Please try again later."
          : "Sorry, something went wrong on my side. Please try again.";
      this.#p.delivery.post(event.address, { kind: "reply", text });
      return { kind: "failed", error };
    } finally {
      this.#inflight.delete(key);
    }
  };

  async #dispatch(event: InboundEvent, key: string): Promise<HandleOutcome> {
    if (event.kind === "action") {
      await this.#p.answers.handleAction(event, key);
      return HANDLED;
    }
    const text = event.kind === "message" ? event.text : event.args;
    const limit = this.#p.config.history.maxMessageLength;
    if (text.length > limit) {
      await this.#reply(event.address, `Your message is ${text.length.toLocaleString("en-US")} characters long; the limit is ${limit.toLocaleString("en-US")}. Please send a shorter one.`);
      return HANDLED;
    }
    const session = await this.#p.sessions.open(event.address);
    const turn = this.#turn.getStore();
    if (turn) turn.session = session;
    const messageId = derivedId(event.kind === "command" ? "c-" : "u-", key);
    const seenBefore = await this.#record(session, event, messageId);
    if (event.kind === "command") return this.#command(event, session);
    return this.#message(event, session, key, seenBefore);
  }

  /** Appends the person's message to history unless it is there already; returns whether it was. */
  async #record(session: Session, event: InboundMessage | InboundCommand, id: string): Promise<boolean> {
    return appendMessageOnce(this.#p.store, {
      id,
      sessionId: session.id,
      role: "user",
      source: event.kind === "command" ? "command" : "user",
      text: event.kind === "command" ? `/${event.name}${event.args ? ` ${event.args}` : ""}` : event.text,
      user: event.address.user,
      at: Date.now(),
      ...(event.platformMessageId ? { platformMessageId: event.platformMessageId } : {}),
    });
  }

  async #message(event: InboundMessage, session: Session, key: string, seenBefore: boolean): Promise<HandleOutcome> {
    const { answers, config } = this.#p;
    const active = await this.#activeTask(session.id);
    if (seenBefore && (await this.#answeredBy(session.id, key))) return HANDLED;
    if (active?.status === "waiting" && (await answers.handleText(active, event, key))) return HANDLED;
    const route = routeFor(config.routes, event.address.platform);
    if (!route.message) {
      await this.#reply(event.address, "Send /help to see what I can do.");
      return HANDLED;
    }
    // Not an answer: a new request, queued behind the task that waits (the person is told what it waits for).
    const hint = active?.status === "waiting" ? Answers.waitingHint(active) : "";
    return this.#start(route.message, { text: event.text }, event.address, session, key, hint);
  }

  async #command(event: InboundCommand, session: Session): Promise<HandleOutcome> {
    const extra = this.#p.extraCommands ?? [];
    const builtin = [...BUILTIN_COMMANDS, ...extra].find((command) => command.name === event.name);
    const { runner, answers, store } = this.#p;
    if (builtin) {
      await builtin.run({
        event,
        session,
        store,
        reply: (text) => this.#reply(event.address, text),
        notify: (text) => this.#p.delivery.notice(event, text, { alert: true }),
        activeTask: () => this.#activeTask(session.id),
        cancel: async (task) => {
          // A /cancel handled before a crash and delivered again: answer for the task it cancelled, never the next one.
          const key = `${event.address.platform}:${event.id}`;
          const earlier = (await store.listTasks({ sessionId: session.id }, { limit: 20 })).items.find((t) => t.cancelEvent === key);
          const ended = earlier && earlier.id !== task.id ? earlier : await runner.cancel(task.id, event.address.user, key);
          await this.#reply(event.address, ended?.status === "cancelled" ? "Cancelled." : ended?.cancelRequested ? "Cancelling: the task stops at its next step." : "That task has already finished.");
        },
        newSession: async () => {
          await this.#p.sessions.renew(event.address);
        },
        mayAct: (task, address) => answers.mayAct(task, address),
        isReviewer: (address) => answers.isReviewer(address),
        extraCommands: extra,
        workflowCommands: routeFor(this.#p.config.routes, event.address.platform).commands,
        describeWorkflow: (name) => this.#p.workflows.get(name)?.description,
      });
      return HANDLED;
    }
    const workflow = routeFor(this.#p.config.routes, event.address.platform).commands[event.name];
    if (!workflow) {
      await this.#reply(event.address, `Unknown command /${event.name}. Send /help to see the commands.`);
      return HANDLED;
    }
    return this.#start(workflow, { text: event.args, command: event.name }, event.address, session, `${event.address.platform}:${event.id}`);
  }

  /** Starts a task through the one door (validation, derived id, busy policy, the owner's limit); refusals are replies. */
  async #start(name: string, request: { text: string; command?: string }, address: Address, session: Session, key: string, queuedHint = ""): Promise<HandleOutcome> {
    if (!this.#p.workflows.has(name)) {
      this.#p.log.error({ workflow: name }, "route points to an unknown workflow");
      await this.#reply(address, `The workflow "${name}" is not available. Please tell the bot's operator.`);
      return HANDLED;
    }
    try {
      const started = await this.#p.starts.start({ workflow: name, request, address, sessionId: session.id, key });
      if (started.queued) await this.#reply(address, `Queued: I'll start on this as soon as the current task is done.${queuedHint}`);
      return { kind: "task", taskId: started.task.id };
    } catch (error) {
      if (error instanceof SessionBusyError) {
        await this.#reply(address, "I'm still working on your previous request. Send /status to see where it is, or /cancel to stop it.");
        return HANDLED;
      }
      if (error instanceof ChatflowError && error.code === "validation") {
        await this.#reply(address, `I can't start ${name}: ${error.message.replace(/^input\.?/, "").replace(/^: /, "") || "invalid input"}.`);
        return HANDLED;
      }
      if (!(error instanceof RateLimitError)) throw error;
      await this.#reply(address, error.message);
      return { kind: "limited", retryAfterMs: error.retryAfterMs, message: error.message };
    }
  }

  async #activeTask(sessionId: string): Promise<Task | undefined> {
    const id = await this.#p.runner.activeTaskId(sessionId);
    return id ? this.#p.store.getTask(id) : undefined;
  }

  /** Whether a recent task of the session took this event as an answer (re-delivery after a crash). */
  async #answeredBy(sessionId: string, key: string): Promise<boolean> {
    const { items } = await this.#p.store.listTasks({ sessionId }, { limit: 5 });
    return items.some((task) => task.lastAnswerEvent === key);
  }

  /**
   * Answers the person. A reply to an event in a session also enters its history (source
   * `command`), so `/history` and the messages list show the conversation as it went.
   */
  async #reply(address: Address, text: string): Promise<void> {
    this.#p.delivery.post(address, { kind: "reply", text });
    const turn = this.#turn.getStore();
    if (!turn) return;
    turn.replies.push(text);
    if (turn.session) {
      const id = derivedId("r-", `${turn.key}#${turn.replies.length}`);
      await appendMessageOnce(this.#p.store, { id, sessionId: turn.session.id, role: "assistant", source: "command", text, at: Date.now() });
    }
  }
}
