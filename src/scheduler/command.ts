import type { BuiltinCommand, CommandContext } from "../engine/commands.ts";
import { ChatflowError } from "../errors.ts";
import { workflowInput } from "../engine/task-start.ts";
import type { Workflow } from "../tasks/workflow.ts";
import type { MissedPolicy, Schedule } from "../store/records.ts";
import type { Scheduler } from "./scheduler.ts";

export interface ScheduleCommandDeps {
  scheduler: Scheduler;
  /** The workflow a command name starts on this platform, if any. */
  workflowForCommand(platform: string, command: string): Workflow<any> | undefined;
}

const USAGE = [
  "Usage:",
  '/schedule add "<cron>" [tz=<IANA zone>] [missed=skip|latest|all] <text>',
  '/schedule add "<cron>" [options] prompt: <instruction>   (the assistant writes each message)',
  '/schedule add "<cron>" [options] /<command> <input>   (runs a workflow)',
  "Options: tz=<IANA zone> missed=skip|latest|all history=yes|no (a prompt also reads this chat's recent messages)",
  "/schedule list",
  "/schedule remove|pause|resume <id>",
  'Example: /schedule add "0 9 * * 1-5" tz=Europe/Berlin Stand-up in 10 minutes',
].join("\n");

const POLICIES: readonly MissedPolicy[] = ["skip", "latest", "all"];

function describe(s: Schedule, next: Date | null): string {
  const what =
    s.workflow !== undefined ? `runs ${s.workflow}` : s.prompt !== undefined ? `writes from "${s.prompt.slice(0, 60)}"${s.withHistory ? " with the chat's history" : ""}` : `"${(s.text ?? "").slice(0, 60)}"`;
  const when = s.enabled ? `next ${next ? next.toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never"}` : `paused (${s.pausedReason ?? "paused"})`;
  const failing = s.enabled && s.lastError ? ` · last try failed: ${s.lastError}` : "";
  return `${s.id} · "${s.cron}" ${s.timezone} · ${when} · ${what}${failing}`;
}

/** `/schedule add|list|remove|pause|resume`: schedules made from chat, posted to that chat. */
export function scheduleCommand(deps: ScheduleCommandDeps): BuiltinCommand {
  const { scheduler } = deps;

  async function add(ctx: CommandContext, rest: string): Promise<void> {
    const match = /^(?:"([^"]+)"|'([^']+)')\s*([\s\S]*)$/.exec(rest);
    if (!match) return ctx.reply(`Put the cron expression in quotes.\n${USAGE}`);
    const cron = (match[1] ?? match[2] ?? "").trim();
    let body = match[3] ?? "";
    let timezone: string | undefined;
    let missedPolicy: MissedPolicy | undefined;
    let withHistory: boolean | undefined;
    for (;;) {
      const option = /^(tz|missed|history)=(\S+)\s*/.exec(body);
      if (!option) break;
      if (option[1] === "tz") timezone = option[2];
      else if (option[1] === "history") {
        if (!["yes", "no"].includes(option[2]!)) return ctx.reply(`history=${option[2]}: use history=yes or history=no.`);
        withHistory = option[2] === "yes";
      } else if (POLICIES.includes(option[2] as MissedPolicy)) missedPolicy = option[2] as MissedPolicy;
      else return ctx.reply(`Unknown missed-slot policy "${option[2]}": use skip, latest or all.`);
      body = body.slice(option[0].length);
    }
    body = body.trim();
    if (body === "") return ctx.reply(`What should I post? ${USAGE}`);
    let spec: { text: string } | { prompt: string; withHistory: boolean } | { workflow: string; input: unknown } = { text: body };
    const prompt = /^prompt:\s*([\s\S]*)$/i.exec(body);
    if (withHistory !== undefined && !prompt) return ctx.reply(`history= goes with prompt: (the assistant reads the history when it writes).\n${USAGE}`);
    if (prompt) {
      if (!prompt[1]!.trim()) return ctx.reply(`What should the assistant write? ${USAGE}`);
      spec = { prompt: prompt[1]!.trim(), withHistory: withHistory ?? false };
    } else if (body.startsWith("/")) {
      const [, name = "", input = ""] = /^\/(\S+)\s*([\s\S]*)$/.exec(body) ?? [];
      const workflow = deps.workflowForCommand(ctx.event.address.platform, name.toLowerCase());
      if (!workflow) return ctx.reply(`/${name} does not start a workflow here. Send /help to see the commands.`);
      let parsed: unknown;
      try {
        parsed = workflowInput(workflow, { request: { text: input, command: name } });
      } catch (error) {
        if (!(error instanceof ChatflowError)) throw error;
        return ctx.reply(`That input does not fit ${workflow.name}: ${error.message}.`);
      }
      spec = { workflow: workflow.name, input: parsed };
    }
    try {
      const created = await scheduler.add({ cron, ...(timezone ? { timezone } : {}), ...(missedPolicy ? { missedPolicy } : {}), target: ctx.event.address, origin: "chat", ...spec });
      await ctx.reply(`Scheduled ${describe(created, scheduler.nextFire(created))}\nRemove it with /schedule remove ${created.id}.`);
    } catch (error) {
      if (error instanceof ChatflowError && error.code === "validation") return ctx.reply(`${error.message} Nothing was scheduled.`);
      throw error;
    }
  }

  /** The schedule, if this person may change it: its maker, or a reviewer (config schedules: reviewers only). */
  async function owned(ctx: CommandContext, id: string): Promise<Schedule | undefined> {
    const schedule = id ? (await scheduler.list()).find((s) => s.id === id) : undefined;
    if (!schedule) {
      await ctx.reply(id ? `There is no schedule ${id}. See /schedule list.` : USAGE);
      return undefined;
    }
    const { address } = ctx.event;
    const maker = schedule.origin === "chat" && schedule.target.platform === address.platform && schedule.target.user === address.user;
    if (!maker && !ctx.isReviewer(address)) {
      await ctx.notify("Sorry, only the person who made this schedule, or a reviewer, can change it.");
      return undefined;
    }
    return schedule;
  }

  return {
    name: "schedule",
    usage: "/schedule add|list|remove|pause|resume",
    description: "messages on a cron schedule in this chat",
    async run(ctx) {
      const [sub = "", ...restParts] = ctx.event.args.trim().split(/\s+/);
      const rest = ctx.event.args.trim().slice(sub.length).trim();
      switch (sub.toLowerCase()) {
        case "add":
          return add(ctx, rest);
        case "list": {
          const here = (await scheduler.list()).filter((s) => s.target.platform === ctx.event.address.platform && s.target.channel === ctx.event.address.channel);
          if (here.length === 0) return ctx.reply("No schedules in this chat. Add one with /schedule add.");
          return ctx.reply(here.map((s) => describe(s, s.enabled ? scheduler.nextFire(s) : null)).join("\n"));
        }
        case "remove":
        case "pause":
        case "resume": {
          const schedule = await owned(ctx, restParts[0] ?? "");
          if (!schedule) return;
          if (sub === "remove") {
            await scheduler.remove(schedule.id);
            return ctx.reply(`Removed schedule ${schedule.id}.`);
          }
          const changed = sub === "pause" ? await scheduler.pause(schedule.id, `paused by ${ctx.event.address.user}`) : await scheduler.resume(schedule.id);
          return ctx.reply(changed ? describe(changed, changed.enabled ? scheduler.nextFire(changed) : null) : `There is no schedule ${schedule.id}.`);
        }
        default:
          return ctx.reply(USAGE);
      }
    },
  };
}
