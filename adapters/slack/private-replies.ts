import { AsyncLocalStorage } from "node:async_hooks";
import type { Address, InboundCommand, InboundEvent, OutboundMessage } from "../../src/model.ts";

/** A message posted to a slash command's response_url, as Bolt's `respond()` takes it. */
export interface ResponseUrlMessage {
  response_type: "ephemeral";
  /** Always a new message, never a replacement of the one the command came from. */
  replace_original: false;
  text: string;
  blocks?: Array<Record<string, unknown>>;
}

/** A slash command the engine is handling now, and how to answer it. */
export interface CommandInFlight {
  event: InboundCommand;
  /** Whether its replies are shown to the person who typed it alone (see `repliesPrivately`). */
  private: boolean;
  /** Posts to the command's response_url: up to 5 times within 30 minutes (Slack's limits). */
  respond: (message: ResponseUrlMessage) => Promise<unknown>;
}

/** Built-in commands whose answer concerns only the person who asked: what they can do, their task, history and tasks. */
const PRIVATE_COMMANDS = new Set(["help", "status", "history", "tasks"]);

/**
 * Whether the engine's replies to this slash command are for the person who typed it alone,
 * as Slack shows a slash command's answer by default: `help`, `status`, `history`, `tasks`,
 * `schedule list`, and a command the engine doesn't have (its answer is a pointer to help;
 * `known` lists the engine's commands, empty when unknown). Commands that change what the
 * channel shares (`new`, `cancel`, `schedule add|pause|resume|remove`) and workflow commands
 * answer where everyone sees, as the tasks they start do.
 */
export function repliesPrivately(name: string, args: string, known: ReadonlySet<string>): boolean {
  if (PRIVATE_COMMANDS.has(name)) return true;
  if (name === "schedule") return /^list\b/i.test(args.trim());
  return known.size > 0 && !known.has(name);
}

function sameAddress(a: Address, b: Address): boolean {
  return a.platform === b.platform && a.channel === b.channel && a.user === b.user && (a.thread ?? "") === (b.thread ?? "");
}

/**
 * Which slash command a message from the engine answers. The engine replies to an event while
 * its handler runs (the Adapter port's `notify` relies on the same), so the adapter hands each
 * slash command over inside an AsyncLocalStorage scope naming it: a `reply` sent from inside
 * that scope, to the command's own address, answers that command. A task's messages (they
 * carry a `taskId`) and anything sent elsewhere are never taken for an answer.
 */
export class CommandReplies {
  readonly #scope = new AsyncLocalStorage<CommandInFlight>();

  /** Runs the handling of `command` inside its scope. */
  run<T>(command: CommandInFlight, handle: () => Promise<T>): Promise<T> {
    return this.#scope.run(command, handle);
  }

  /** The private command `message` answers, if it is such an answer. */
  answering(address: Address, message: OutboundMessage): CommandInFlight | undefined {
    const command = this.#scope.getStore();
    if (!command?.private || message.kind !== "reply" || message.taskId !== undefined) return undefined;
    return sameAddress(command.event.address, address) ? command : undefined;
  }

  /** The slash command behind `event`, while the engine handles it. */
  of(event: InboundEvent): CommandInFlight | undefined {
    const command = this.#scope.getStore();
    return command?.event.id === event.id ? command : undefined;
  }
}
