import type { Address, InboundCommand, Session } from "../model.ts";
import type { Store } from "../store/port.ts";
import { ACTIVE_STATUSES, type Task } from "../store/records.ts";

/** What a built-in command can use. */
export interface CommandContext {
  event: InboundCommand;
  session: Session;
  store: Store;
  /** Replies to the person. */
  reply(text: string): Promise<void>;
  /** A notice only this person sees, where the platform has one (else a reply). */
  notify(text: string): Promise<void>;
  /** The session's active task (running, queued or waiting), if any. */
  activeTask(): Promise<Task | undefined>;
  cancel(task: Task): Promise<void>;
  newSession(): Promise<void>;
  mayAct(task: Task, address: Address): boolean;
  /** Whether the address's user is a configured reviewer. */
  isReviewer(address: Address): boolean;
  /** Commands added by other parts (e.g. /schedule), for /help. */
  extraCommands: readonly BuiltinCommand[];
  /** Routed workflow commands, for /help. */
  workflowCommands: Record<string, string>;
  describeWorkflow(name: string): string | undefined;
}

export interface BuiltinCommand {
  name: string;
  usage: string;
  description: string;
  run(ctx: CommandContext): Promise<void>;
}

function describeTask(task: Task): string {
  const parts = [`**${task.workflow}** · ${task.status} · ${task.percent}%`];
  if (task.step) parts.push(`step: ${task.step}`);
  if (task.status === "failed" && task.error) parts.push(task.error);
  if (task.waiting) {
    const what = task.waiting.kind === "review" ? "a review" : "an answer";
    parts.push(`waiting for ${what}: "${task.waiting.question}"`);
  }
  return parts.join(" · ");
}

export const BUILTIN_COMMANDS: readonly BuiltinCommand[] = [
  {
    name: "help",
    usage: "/help",
    description: "what I can do",
    async run(ctx) {
      const lines = ["Send a message to start a task, or use a command:"];
      for (const [name, workflow] of Object.entries(ctx.workflowCommands)) {
        lines.push(`/${name} <text> — ${ctx.describeWorkflow(workflow) ?? `run the ${workflow} workflow`}`);
      }
      for (const command of [...BUILTIN_COMMANDS, ...ctx.extraCommands]) lines.push(`${command.usage} — ${command.description}`);
      await ctx.reply(lines.join("\n"));
    },
  },
  {
    name: "new",
    usage: "/new",
    description: "start a fresh session (history starts empty)",
    async run(ctx) {
      const active = await ctx.activeTask();
      if (active) {
        await ctx.reply("A task is still active in this session. Send /cancel first, or wait until it is done.");
        return;
      }
      await ctx.newSession();
      await ctx.reply("Started a fresh session.");
    },
  },
  {
    name: "cancel",
    usage: "/cancel",
    description: "cancel the current task",
    async run(ctx) {
      const active = await ctx.activeTask();
      if (!active) {
        await ctx.reply("There is no task to cancel.");
        return;
      }
      if (!ctx.mayAct(active, ctx.event.address)) {
        await ctx.notify("Sorry, only the person who started this task, or a reviewer, can cancel it.");
        return;
      }
      await ctx.cancel(active);
    },
  },
  {
    name: "status",
    usage: "/status",
    description: "the current task: status, progress, step, what it waits for",
    async run(ctx) {
      const active = await ctx.activeTask();
      if (active) {
        await ctx.reply(describeTask(active));
        return;
      }
      const last = (await ctx.store.listTasks({ sessionId: ctx.session.id }, { limit: 1 })).items[0];
      await ctx.reply(last ? `No task is running. The last one: ${describeTask(last)}` : "No task is running.");
    },
  },
  {
    name: "history",
    usage: "/history [n]",
    description: "the last n messages of this session (default 10)",
    async run(ctx) {
      const raw = ctx.event.args.trim();
      const n = raw === "" ? 10 : Number(raw);
      if (!Number.isInteger(n) || n < 1 || n > 200) {
        await ctx.reply("Usage: /history [n], where n is a number from 1 to 200.");
        return;
      }
      const recent = await ctx.store.listMessages(ctx.session.id, n + 1);
      // Leave out this /history command itself.
      const last = recent.at(-1);
      if (last?.source === "command" && last.text.startsWith("/history")) recent.pop();
      const messages = recent.slice(-n);
      if (messages.length === 0) {
        await ctx.reply("No messages in this session yet.");
        return;
      }
      const lines = messages.map((m) => {
        const who = m.role === "user" ? "you" : m.source === "scheduled" ? "scheduled" : "bot";
        const time = new Date(m.at).toISOString().slice(11, 16);
        const flat = m.text.replace(/\s*\n\s*/g, " ");
        const text = flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
        return `${time} ${who}: ${text}`;
      });
      await ctx.reply(lines.join("\n"));
    },
  },
  {
    name: "tasks",
    usage: "/tasks",
    description: "your recent tasks",
    async run(ctx) {
      const { items } = await ctx.store.listTasks({ owner: ctx.event.address.user }, { limit: 10 });
      const mine = items.filter((task) => task.address.platform === ctx.event.address.platform);
      if (mine.length === 0) {
        await ctx.reply("You have no recent tasks.");
        return;
      }
      const lines = mine.map((task) => {
        const when = new Date(task.createdAt).toISOString().slice(0, 16).replace("T", " ");
        const active = ACTIVE_STATUSES.includes(task.status) ? ` ${task.percent}%` : "";
        return `${when} ${task.workflow} — ${task.status}${active}`;
      });
      await ctx.reply(lines.join("\n"));
    },
  },
];
