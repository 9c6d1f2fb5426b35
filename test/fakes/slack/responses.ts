import { checkView, normalizeBlocks } from "./blocks.ts";
import { id, nextTs, type FakeView, type Json } from "./protocol.ts";
import type { ResponseTarget } from "./store.ts";
import { checkContent, type WebApiContext } from "./web-api.ts";

/**
 * What the app answers interactions with: posts to a response_url (and a slash command's ack
 * carrying a message), and a view_submission ack's response_action.
 */

const THIRTY_MINUTES = 30 * 60 * 1000;

/**
 * Applies a message sent to a response_url: `delete_original`, `replace_original` (the message
 * the interaction came from), `response_type: "in_channel"` (a channel message), else an
 * ephemeral for the person (a response_type other than those two is a violation). Five uses
 * within 30 minutes, as documented. Returns status and body.
 */
export function applyResponse(ctx: WebApiContext, target: ResponseTarget | undefined, body: Json, countUse = true): { status: number; body: Json } {
  if (!target) return { status: 404, body: { ok: false, error: "no_such_url" } };
  if (Date.now() - target.issuedAt > THIRTY_MINUTES) {
    ctx.violation(`response_url ${target.id}: used after 30 minutes`);
    return { status: 404, body: { ok: false, error: "expired_url" } };
  }
  if (countUse && ++target.uses > 5) {
    ctx.violation(`response_url ${target.id}: used more than 5 times`);
    return { status: 404, body: { ok: false, error: "used_url" } };
  }
  // Slack knows two: anything else is not an error there, but shown in the channel or not by chance.
  if (body.response_type !== undefined && body.response_type !== "ephemeral" && body.response_type !== "in_channel") {
    ctx.violation(`response_url ${target.id}: response_type ${JSON.stringify(body.response_type)} (Slack takes "ephemeral" or "in_channel")`);
  }
  const original = target.message;
  if (body.delete_original === true) {
    if (!original) return { status: 404, body: { ok: false, error: "no_original_message" } };
    const gone = original.ephemeral ? ctx.store.ephemerals.find((e) => e.ts === original.ts && e.user === target.user) : ctx.store.message(target.channel, original.ts);
    if (gone) gone.deleted = true;
    return { status: 200, body: { ok: true } };
  }
  const content = checkContent(ctx, `response_url ${target.id}`, body, { needsContent: true });
  if ("error" in content) return { status: 400, body: content.error };
  const blocks = Array.isArray(body.blocks) ? normalizeBlocks(body.blocks as Json[]) : undefined;
  if (body.replace_original === true) {
    if (!original) return { status: 404, body: { ok: false, error: "no_original_message" } };
    const replaced = original.ephemeral ? ctx.store.ephemerals.find((e) => e.ts === original.ts && e.user === target.user) : ctx.store.message(target.channel, original.ts);
    if (!replaced) return { status: 404, body: { ok: false, error: "message_not_found" } };
    replaced.text = content.text ?? replaced.text;
    if (blocks) replaced.blocks = blocks;
    else delete replaced.blocks;
    replaced.edits++;
    return { status: 200, body: { ok: true } };
  }
  const threadTs = typeof body.thread_ts === "string" ? body.thread_ts : target.threadTs;
  if (body.response_type === "in_channel") {
    ctx.store.add({ channel: target.channel, ts: nextTs(), from: "bot", user: ctx.identity.bot.userId, botId: ctx.identity.bot.botId, text: content.text ?? "", edits: 0, reactions: new Map(), ...(blocks ? { blocks } : {}), ...(threadTs ? { threadTs } : {}) });
  } else {
    ctx.store.ephemerals.push({ channel: target.channel, user: target.user, ts: nextTs(), text: content.text ?? "", edits: 0, ...(blocks ? { blocks } : {}), ...(threadTs ? { threadTs } : {}) });
  }
  return { status: 200, body: { ok: true } };
}

/** Acts on a view_submission ack: close (no response_action, or `clear`), `errors`, `update`, `push`. */
export function applyViewResponse(ctx: WebApiContext, view: FakeView, payload: Json): void {
  const action = payload.response_action;
  view.lastResponse = payload;
  const closeAll = () => {
    for (const v of ctx.store.views.values()) if (v.rootViewId === view.rootViewId) v.open = false;
  };
  switch (action) {
    case undefined:
      view.open = false;
      return;
    case "clear":
      return closeAll();
    case "errors": {
      const inputs = new Set(((view.view.blocks ?? []) as Json[]).filter((b) => b.type === "input").map((b) => String(b.block_id)));
      const errors = (payload.errors ?? {}) as Json;
      const wrong = Object.keys(errors).filter((key) => !inputs.has(key));
      if (Object.keys(errors).length === 0) ctx.violation(`view_submission ack: response_action "errors" without errors`);
      for (const key of wrong) ctx.violation(`view_submission ack: errors names "${key}", not an input block_id of view ${view.id}`);
      return;
    }
    case "update":
    case "push": {
      const problems = checkView(payload.view, `view_submission ack (${action}).view`);
      for (const problem of problems) ctx.violation(problem);
      if (problems.length > 0) return;
      const next = { ...(payload.view as Json), blocks: normalizeBlocks((payload.view as Json).blocks as Json[]) };
      if (action === "update") {
        view.view = next;
        view.updates++;
        return;
      }
      const pushed = id("V");
      ctx.store.views.set(pushed, { id: pushed, user: view.user, view: next, hash: `${Date.now()}`, rootViewId: view.rootViewId, open: true, updates: 0 });
      return;
    }
    default:
      ctx.violation(`view_submission ack: unknown response_action ${JSON.stringify(action)}`);
  }
}
