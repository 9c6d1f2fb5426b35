import { checkBlocks, LIMITS } from "./blocks.ts";
import type { Json } from "./protocol.ts";
import type { Identity, Store } from "./store.ts";

/**
 * What the Web API methods share: their context, answers, channel and content checks. The
 * methods are in chat.ts (messages, streams), conversations.ts (reading, reactions, users)
 * and views.ts (modals, assistant status), dispatched by methods.ts. Every answer is HTTP
 * 200, as on Slack (429 and 5xx come from failure rules and the tier limiter).
 */

export interface WebApiContext {
  store: Store;
  identity: Identity;
  /** Channels where the bot is not a member (writes and reads → not_in_channel). */
  notInChannel: ReadonlySet<string>;
  /** Archived channels (writes → is_archived). */
  archived: ReadonlySet<string>;
  /** Channels that don't exist (→ channel_not_found). */
  missing: ReadonlySet<string>;
  /** How long a trigger_id stays usable (Slack: 3 s). */
  triggerTtlMs: number;
  /** Records a violation: something Slack refuses or the docs forbid. */
  violation(text: string): void;
  /** Records a warning: accepted by Slack but discouraged (e.g. blocks without fallback text). */
  warning(text: string): void;
}

export type Handler = (ctx: WebApiContext, params: Json) => Json;

export const ok = (result: Json = {}): Json => ({ ok: true, ...result });
/** An error answer; `messages` go to response_metadata.messages as `[ERROR] ...` lines, as Slack sends them. */
export const fail = (error: string, messages: string[] = []): Json =>
  messages.length > 0 ? { ok: false, error, response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) } } : { ok: false, error };

/** The error for a channel the bot can't use, if any (`write` also refuses archived channels). */
export function channelError(ctx: WebApiContext, channel: unknown, use: "read" | "write"): Json | undefined {
  const id = String(channel);
  if (ctx.missing.has(id)) return fail("channel_not_found");
  if (ctx.notInChannel.has(id)) return fail("not_in_channel");
  if (use === "write" && ctx.archived.has(id)) return fail("is_archived");
  return undefined;
}

/**
 * Checks a message's content (text, blocks, metadata, markdown_text) as chat.postMessage,
 * chat.update, chat.postEphemeral and response_urls take it. Returns the error answer, or the
 * text to store (cut at 40,000 characters, as Slack cuts it).
 */
export function checkContent(ctx: WebApiContext, where: string, p: Json, options: { needsContent: boolean }): { error: Json } | { text: string | undefined } {
  const hasText = typeof p.text === "string" && p.text !== "";
  if (p.markdown_text !== undefined && (p.text !== undefined || p.blocks !== undefined)) return { error: fail("markdown_text_conflict") };
  if (options.needsContent && !hasText && p.blocks === undefined && p.attachments === undefined && p.markdown_text === undefined) {
    ctx.violation(`${where}: no text, blocks, attachments or markdown_text`);
    return { error: fail("no_text") };
  }
  if (p.blocks !== undefined) {
    const problems = checkBlocks(p.blocks, "message", `${where}.blocks`);
    if (problems.length > 0) {
      for (const problem of problems) ctx.violation(problem);
      return { error: fail("invalid_blocks", problems) };
    }
    if (!hasText && Array.isArray(p.blocks) && p.blocks.length > 0) ctx.warning(`${where}: blocks without a top-level text (the fallback for notifications and screen readers)`);
  }
  if (p.metadata !== undefined) {
    const m = p.metadata as Json;
    if (typeof m.event_type !== "string" || m.event_type === "" || m.event_payload === null || typeof m.event_payload !== "object") {
      ctx.violation(`${where}.metadata: needs event_type (a string) and event_payload (an object)`);
      return { error: fail("invalid_metadata_format") };
    }
  }
  let text = typeof p.text === "string" ? p.text : typeof p.markdown_text === "string" ? p.markdown_text : undefined;
  if (text !== undefined && [...text].length > LIMITS.messageText) {
    ctx.violation(`${where}.text: ${[...text].length} characters, over ${LIMITS.messageText} (Slack truncates it)`);
    text = [...text].slice(0, LIMITS.messageText).join("");
  }
  return { text };
}
