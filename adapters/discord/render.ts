import type { Action, OutboundMessage } from "../../src/model.ts";

/** Discord's limits on what a message may carry. */
export const LIMITS = {
  content: 2000,
  buttonsPerRow: 5,
  rows: 5,
  buttonLabel: 80,
  customId: 100,
  embedDescription: 4096,
} as const;

/** Mentions in anything chatflow posts never ping: not @everyone, @here, roles or users. */
export const NO_MENTIONS = { parse: [] as string[] };

/** Button styles. */
const PRIMARY = 1;
const SECONDARY = 2;
const SUCCESS = 3;
const DANGER = 4;

/** The custom_id prefix of buttons that open a modal (a review's Edit, a free-text Answer). */
export const MODAL_PREFIX = "modal:";
/** The custom_id of a free-text question's Answer button (and its form's), without the task. */
export const ANSWER_ID = `${MODAL_PREFIX}answer`;

/**
 * A free-text question's Answer button: `modal:answer:<task>` where the task id fits in
 * Discord's 100 characters (its form then knows whether that task still waits), else plain
 * `modal:answer`. The form it opens carries the same custom_id.
 */
export function answerButtonId(taskId: string | undefined): string {
  const id = taskId ? `${ANSWER_ID}:${taskId}` : ANSWER_ID;
  return id.length <= LIMITS.customId ? id : ANSWER_ID;
}

/** A Discord message body, as far as chatflow builds them. */
export interface DiscordMessage {
  content: string;
  components: Array<{ type: 1; components: Array<Record<string, unknown>> }>;
  embeds: Array<{ description: string; color?: number }>;
  allowed_mentions: typeof NO_MENTIONS;
}

/** How an engine action id becomes a custom_id (at most 100 characters, prefix included). */
export type EncodeAction = (actionId: string, prefix: string) => string;

const CODE_SPAN = /(`[^`\n]+`)/;
const URL = /(https?:\/\/[^\s<>]+)/;
const BOLD = /\\\*\\\*(?=\S)(.+?)(?<=\S)\\\*\\\*/g;
const ITALIC = /(^|[^\p{L}\p{N}_\\])\\_(?=\S)([^_\n]+?)(?<=\S)\\_(?![\p{L}\p{N}_])/gu;

/**
 * chatflow's markdown subset as Discord markdown: `**bold**`, `_italic_` and `` `code` ``
 * kept; every other character Discord gives a meaning to is escaped (what a person typed
 * shows as typed: no headings, quotes, lists, masked links or spoilers), bare URLs untouched.
 */
export function markdownToDiscord(text: string): string {
  return text
    .split("\n")
    .map((line) =>
      line
        .split(CODE_SPAN)
        .map((part, i) => (i % 2 === 1 ? part : part.split(URL).map((piece, j) => (j % 2 === 1 ? piece : emphasis(escapeDiscord(piece)))).join("")))
        .join(""),
    )
    .map((line) => line.replace(/^(\s*)([#>-])/, "$1\\$2"))
    .join("\n");
}

/** Backslash-escapes Discord's markdown characters and `<` (mentions, custom emoji). */
export function escapeDiscord(text: string): string {
  return text.replace(/[\\*_~`|<[\]]/g, "\\$&");
}

function emphasis(escaped: string): string {
  return escaped.replace(BOLD, "**$1**").replace(ITALIC, "$1_$2_");
}

/**
 * Renders an outbound message as Discord messages: the text (a status message's headline
 * bold) split at 2,000 characters, the draft under review in an embed (4,096 characters; a
 * longer draft goes on as quoted text), links as a list, and the buttons (five to a row, at
 * most five rows) on the last message. A question that expects text gets an Answer button.
 */
export function renderMessage(message: OutboundMessage, encode: EncodeAction): DiscordMessage[] {
  const lines = message.text.replace(/^\n+|\s+$/g, "").split("\n").map(markdownToDiscord);
  if (message.kind === "status" && lines[0]) lines[0] = `**${lines[0]}**`;
  if (message.links?.length) lines.push("", ...message.links.map((link) => `• ${link.title ? `${escapeDiscord(link.title)}: ` : ""}${link.url}`));
  const draft = message.review?.data.replace(/^\n+|\s+$/g, "") ?? "";
  const embeds = draft && draft.length <= LIMITS.embedDescription ? [{ description: markdownToDiscord(draft), color: 0x5865f2 }] : [];
  if (draft && embeds.length === 0) lines.push("", ...draft.split("\n").map((line) => `> ${markdownToDiscord(line)}`));
  const chunks = chunk(lines, LIMITS.content);
  if (chunks.length === 0) chunks.push("…");
  const components = rows(message, encode);
  return chunks.map((content, i) => {
    const last = i === chunks.length - 1;
    return { content, components: last ? components : [], embeds: last ? embeds : [], allowed_mentions: NO_MENTIONS };
  });
}

/** One message for an edit: cut to 2,000 characters; without actions the buttons go. */
export function renderEdit(message: OutboundMessage, encode: EncodeAction): DiscordMessage {
  const parts = renderMessage(message, encode);
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (parts.length === 1) return first;
  return { ...last, content: `${first.content.slice(0, LIMITS.content - 2)}\n…` };
}

function rows(message: OutboundMessage, encode: EncodeAction): DiscordMessage["components"] {
  const actions = message.actions ?? [];
  const buttons = actions.map((action) => button(action, encode));
  if (buttons.length === 0 && message.expectsText) buttons.push({ type: 2, style: PRIMARY, label: "Answer", custom_id: answerButtonId(message.taskId) });
  const out: DiscordMessage["components"] = [];
  for (let i = 0; i < buttons.length && out.length < LIMITS.rows; i += LIMITS.buttonsPerRow) out.push({ type: 1, components: buttons.slice(i, i + LIMITS.buttonsPerRow) });
  return out;
}

function button(action: Action, encode: EncodeAction): Record<string, unknown> {
  const style = action.style === "primary" ? (action.role === "approve" ? SUCCESS : PRIMARY) : action.style === "danger" ? DANGER : SECONDARY;
  const label = action.label.replace(/\*\*|`/g, "").trim() || "…";
  return { type: 2, style, label: label.length <= LIMITS.buttonLabel ? label : `${label.slice(0, LIMITS.buttonLabel - 1)}…`, custom_id: encode(action.id, action.role === "edit" ? MODAL_PREFIX : "") };
}

/** Lines joined into chunks of at most `limit` characters; a longer line is cut. */
function chunk(lines: readonly string[], limit: number): string[] {
  const out: string[] = [];
  let current = "";
  for (let line of lines) {
    while (line.length > limit) {
      if (current) out.push(current);
      current = "";
      let cut = line.lastIndexOf(" ", limit);
      if (cut < limit / 2) cut = limit;
      // Never leave a trailing backslash that would escape the next part's first character.
      while (cut > 1 && line[cut - 1] === "\\") cut--;
      out.push(line.slice(0, cut));
      line = line.slice(cut).replace(/^ /, "");
    }
    if (current !== "" && current.length + 1 + line.length > limit) {
      out.push(current);
      current = "";
    }
    current = current === "" ? line : `${current}\n${line}`;
  }
  if (current.trim() !== "") out.push(current);
  return out;
}
