import { AsyncLocalStorage } from "node:async_hooks";
import type { ChatInputCommandInteraction } from "discord.js";
import type { Address, InboundCommand, InboundEvent, OutboundMessage } from "../../src/model.ts";

/** A slash command answered privately, while the engine handles it. */
export interface PrivateCommand {
  event: InboundCommand;
  /** Deferred with flag 64: its original response is seen by the person alone. */
  interaction: ChatInputCommandInteraction;
  /** Whether the original response carries an answer yet (the next parts are ephemeral follow-ups). */
  answered: boolean;
}

/** Built-in commands whose answer concerns only the person who asked: what they can do, their task, history and tasks. */
const PRIVATE_COMMANDS = new Set(["help", "status", "history", "tasks"]);

/**
 * Whether the engine's replies to this slash command are for the person who used it alone
 * (an ephemeral response, flag 64): `/help`, `/status`, `/history`, `/tasks` and `/schedule
 * list`. Commands that change what the channel shares (`/new`, `/cancel`, `/schedule
 * add|pause|resume|remove`) and workflow commands answer where everyone sees, as the tasks
 * they start do. `args` is the engine's (`list`, `add "…" …` for /schedule).
 */
export function repliesPrivately(name: string, args: string): boolean {
  if (PRIVATE_COMMANDS.has(name)) return true;
  return name === "schedule" && /^list\b/i.test(args.trim());
}

function sameAddress(a: Address, b: Address): boolean {
  return a.platform === b.platform && a.channel === b.channel && a.user === b.user && (a.thread ?? "") === (b.thread ?? "");
}

/**
 * Which private slash command a message from the engine answers. The engine replies to an
 * event while its handler runs (the Adapter port's `notify` relies on the same), so the
 * adapter hands each such command over inside an AsyncLocalStorage scope naming it: a `reply`
 * sent from inside that scope, to the command's own address, answers that command. A task's
 * messages (they carry a `taskId`) and anything sent elsewhere never take its place, nor does
 * a reply take the place of another command's response.
 */
export class PrivateReplies {
  readonly #scope = new AsyncLocalStorage<PrivateCommand>();

  /** Runs the handling of `command` inside its scope. */
  run<T>(command: PrivateCommand, handle: () => Promise<T>): Promise<T> {
    return this.#scope.run(command, handle);
  }

  /** The private command `message` answers, if it is such an answer. */
  answering(address: Address, message: OutboundMessage): PrivateCommand | undefined {
    const command = this.#scope.getStore();
    if (!command || message.kind !== "reply" || message.taskId !== undefined) return undefined;
    return sameAddress(command.event.address, address) ? command : undefined;
  }

  /** The private command behind `event`, while the engine handles it. */
  of(event: InboundEvent): PrivateCommand | undefined {
    const command = this.#scope.getStore();
    return command?.event.id === event.id ? command : undefined;
  }
}
