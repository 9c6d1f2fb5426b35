import { z } from "zod";
import type { Address, InboundCommand, InboundEvent } from "../../src/model.ts";
import { firstIssue, isDirect } from "./inbound.ts";

/** The modal of a review's Edit: its callback id and what it carries. */
export const EDIT_VIEW_ID = "chatflow_edit";

const slashCommand = z.object({
  command: z.string().min(1),
  text: z.string().default(""),
  user_id: z.string().min(1),
  channel_id: z.string().min(1),
  channel_name: z.string().optional(),
  trigger_id: z.string().min(1),
  response_url: z.string().optional(),
});

/**
 * A slash command: `/chatflow status` (the adapter's command carries the engine's commands;
 * no words is `help`), or a routed workflow command of its own (`/demo owls`). The event id
 * is the command's `trigger_id`, unique per invocation.
 */
export function fromSlashCommand(raw: unknown, chatflowCommand: string): InboundCommand | { ignored: string } {
  const parsed = slashCommand.safeParse(raw);
  if (!parsed.success) return { ignored: `malformed slash command: ${firstIssue(parsed.error)}` };
  const body = parsed.data;
  const address: Address = { platform: "slack", channel: body.channel_id, user: body.user_id };
  if (isDirect(body.channel_id, body.channel_name === "directmessage" ? "im" : undefined)) address.direct = true;
  const text = body.text.trim();
  let name = body.command.replace(/^\//, "").toLowerCase();
  let args = text;
  if (body.command.toLowerCase() === chatflowCommand) {
    // `/chatflow history 5` → history, "5"; `/chatflow` alone → help.
    const words = /^(\S+)\s*([\s\S]*)$/.exec(text);
    name = words ? words[1]!.replace(/^\//, "").toLowerCase() : "help";
    args = words ? words[2]!.trim() : "";
  }
  return { kind: "command", id: `cmd:${body.trigger_id}`, address, raw, name, args };
}

const blockActions = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id: z.string().min(1) }),
  trigger_id: z.string().optional(),
  channel: z.object({ id: z.string().min(1) }).optional(),
  container: z.object({ channel_id: z.string().optional(), message_ts: z.string().optional(), is_ephemeral: z.boolean().optional() }).optional(),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional(), action_ts: z.string().optional(), block_id: z.string().optional() })).min(1),
});

/** A pressed button, as the adapter sees it before mapping its value back to the engine's id. */
export interface Press {
  event: InboundEvent & { kind: "action" };
  /** The button's `action_id` (`chatflow:<role>:<n>` for chatflow's buttons). */
  actionId: string;
  /** The button's `value`: the engine's action id, or a short key for a long one. */
  value: string;
  triggerId?: string;
  /** The message the button is on. */
  messageTs?: string;
}

/** A `block_actions` payload → the first action pressed. Undefined for a malformed payload. */
export function fromBlockActions(raw: unknown): Press | { ignored: string } {
  const parsed = blockActions.safeParse(raw);
  if (!parsed.success) return { ignored: `malformed block_actions: ${firstIssue(parsed.error)}` };
  const body = parsed.data;
  const action = body.actions[0]!;
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (!channel) return { ignored: "block_actions outside a conversation (a Home tab or a modal)" };
  const address: Address = { platform: "slack", channel, user: body.user.id };
  if (isDirect(channel)) address.direct = true;
  else if (body.message) address.thread = body.message.thread_ts ?? body.message.ts;
  const messageTs = body.message?.ts ?? body.container?.message_ts;
  const id = `act:${body.user.id}:${action.action_ts ?? messageTs ?? action.action_id}`;
  return {
    event: { kind: "action", id, address, raw, actionId: action.value ?? "", ...(messageTs ? { platformMessageId: messageTs } : {}) },
    actionId: action.action_id,
    value: action.value ?? "",
    ...(body.trigger_id ? { triggerId: body.trigger_id } : {}),
    ...(messageTs ? { messageTs } : {}),
  };
}

/** What the Edit modal remembers of the press that opened it (its `private_metadata`). */
export interface EditContext {
  /** The button's value (the engine's action id, or its key). */
  value: string;
  channel: string;
  thread?: string;
  messageTs?: string;
}

const viewSubmission = z.object({
  type: z.literal("view_submission"),
  user: z.object({ id: z.string().min(1) }),
  view: z.object({
    id: z.string().min(1),
    callback_id: z.string(),
    private_metadata: z.string(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullable().optional() }))) }),
  }),
});

/** The Edit modal submitted → an `edit` action carrying the corrected text and the feedback. */
export function fromEditSubmission(raw: unknown): { press: EditContext; user: string; viewId: string; text: string; feedback?: string } | { ignored: string } {
  const parsed = viewSubmission.safeParse(raw);
  if (!parsed.success) return { ignored: `malformed view_submission: ${firstIssue(parsed.error)}` };
  const { view, user } = parsed.data;
  let press: EditContext;
  try {
    press = JSON.parse(view.private_metadata) as EditContext;
  } catch {
    return { ignored: "view_submission without chatflow's metadata" };
  }
  const value = (block: string) => view.state.values[block]?.[block]?.value?.trim() || undefined;
  const text = value("draft") ?? "";
  const feedback = value("feedback");
  return { press, user: user.id, viewId: view.id, text, ...(feedback ? { feedback } : {}) };
}

/** The Edit modal: the draft in a multi-line input (Slack's 3,000 characters) and optional feedback. */
export function editView(context: EditContext, draft: string): Record<string, unknown> {
  return {
    type: "modal",
    callback_id: EDIT_VIEW_ID,
    private_metadata: JSON.stringify(context),
    title: { type: "plain_text", text: "Edit the draft" },
    submit: { type: "plain_text", text: "Approve edited" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: "draft",
        label: { type: "plain_text", text: "Corrected text" },
        element: { type: "plain_text_input", action_id: "draft", multiline: true, max_length: 3000, ...(draft ? { initial_value: draft.slice(0, 3000) } : {}) },
      },
      {
        type: "input",
        block_id: "feedback",
        optional: true,
        label: { type: "plain_text", text: "Feedback for the workflow" },
        element: { type: "plain_text_input", action_id: "feedback", multiline: true, max_length: 3000 },
      },
    ],
  };
}
