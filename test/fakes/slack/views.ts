import { checkView, normalizeBlocks } from "./blocks.ts";
import { id, type FakeView, type Json } from "./protocol.ts";
import type { Identity } from "./store.ts";
import { channelError, fail, ok, type Handler, type WebApiContext } from "./web-api.ts";

/** Modals (views.open, views.update) and assistant.threads.setStatus. */

const newHash = (): string => `${Math.floor(Date.now() / 1000)}.${Math.floor(Math.random() * 1e8)}`;

/** The view object as Slack returns it (views.* answers, view_submission payloads), with `state` given. */
export function viewWire(view: FakeView, identity: Identity, state: Json = { values: {} }): Json {
  const v = view.view;
  return {
    id: view.id,
    team_id: identity.team.id,
    type: v.type,
    blocks: v.blocks ?? [],
    private_metadata: v.private_metadata ?? "",
    callback_id: v.callback_id ?? "",
    state,
    hash: view.hash,
    title: v.title,
    clear_on_close: v.clear_on_close ?? false,
    notify_on_close: v.notify_on_close ?? false,
    close: v.close ?? null,
    submit: v.submit ?? null,
    previous_view_id: null,
    root_view_id: view.rootViewId,
    app_id: identity.bot.appId,
    external_id: view.externalId ?? "",
    app_installed_team_id: identity.team.id,
    bot_id: identity.bot.botId,
  };
}

/** Checks a view; records and answers the problems as Slack's invalid_arguments. */
function refuseView(ctx: WebApiContext, method: string, view: unknown): Json | undefined {
  const problems = checkView(view, `${method}.view`);
  if (problems.length === 0) return undefined;
  for (const problem of problems) ctx.violation(problem);
  return fail("invalid_arguments", problems);
}

export const viewMethods: Record<string, Handler> = {
  "views.open"(ctx, p) {
    const refused = refuseView(ctx, "views.open", p.view);
    if (refused) return refused;
    const trigger = ctx.store.useTrigger(String(p.trigger_id), ctx.triggerTtlMs);
    if (trigger !== "ok") {
      ctx.violation(`views.open: ${trigger} (a trigger_id works once, within ${ctx.triggerTtlMs} ms of the interaction)`);
      return fail(trigger);
    }
    const view: Json = { ...(p.view as Json), blocks: normalizeBlocks((p.view as Json).blocks as Json[]) };
    const externalId = typeof view.external_id === "string" && view.external_id !== "" ? view.external_id : undefined;
    if (externalId && [...ctx.store.views.values()].some((v) => v.externalId === externalId)) return fail("duplicate_external_id");
    const viewId = id("V");
    const user = ctx.store.triggers.get(String(p.trigger_id))!.user;
    const stored: FakeView = { id: viewId, user, view, hash: newHash(), rootViewId: viewId, open: true, updates: 0, ...(externalId ? { externalId } : {}) };
    ctx.store.views.set(viewId, stored);
    return ok({ view: viewWire(stored, ctx.identity) });
  },

  "views.update"(ctx, p) {
    const stored = p.view_id !== undefined ? ctx.store.views.get(String(p.view_id)) : [...ctx.store.views.values()].find((v) => v.externalId !== undefined && v.externalId === p.external_id);
    if (p.view_id === undefined && p.external_id === undefined) {
      ctx.violation("views.update: needs view_id or external_id");
      return fail("invalid_arguments", ["view_id or external_id is required"]);
    }
    if (!stored || !stored.open) return fail("not_found");
    const refused = refuseView(ctx, "views.update", p.view);
    if (refused) return refused;
    if (p.hash !== undefined && p.hash !== stored.hash) return fail("hash_conflict");
    stored.view = { ...(p.view as Json), blocks: normalizeBlocks((p.view as Json).blocks as Json[]) };
    stored.hash = newHash();
    stored.updates++;
    return ok({ view: viewWire(stored, ctx.identity) });
  },

  "assistant.threads.setStatus"(ctx, p) {
    const channel = String(p.channel_id);
    const refused = channelError(ctx, channel, "write");
    if (refused) return refused;
    ctx.store.statuses.push({ channel, threadTs: String(p.thread_ts), status: String(p.status), ...(Array.isArray(p.loading_messages) ? { loadingMessages: p.loading_messages as string[] } : {}), at: Date.now() });
    return ok();
  },
};
