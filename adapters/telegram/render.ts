import type { ForceReply, InlineKeyboardButton, InlineKeyboardMarkup } from "grammy/types";
import type { Action, OutboundMessage } from "../../src/model.ts";
import { escapeHtml, linkHtml, markdownToHtml, visibleLength } from "./html.ts";
import { packSections, splitLine, type Section, type Unit } from "./split.ts";

/** Telegram's limit on a message's text, after entity parsing. */
export const MAX_TEXT_LENGTH = 4096;

/** An outbound message as Telegram messages: HTML parts, and the markup of the last part. */
export interface RenderedMessage {
  /** Telegram HTML, each part within {@link MAX_TEXT_LENGTH} visible characters. */
  parts: string[];
  /** Buttons (inline keyboard) or a reply prompt (ForceReply), for the last part. */
  markup?: InlineKeyboardMarkup | ForceReply;
}

/** How action ids become callback_data (see callback-data.ts). */
export type EncodeAction = (actionId: string) => string;

/**
 * Renders an outbound message for sendMessage: the text (markdown subset as HTML; a status
 * message's first line bold), the draft under review in a blockquote, the links, split into
 * parts of at most `limit` visible characters. Choices become an inline keyboard, one per
 * row; approve / reject / edit share one row; cancel has its own. `expectsText` without
 * buttons asks for a reply (ForceReply).
 */
export function renderMessage(message: OutboundMessage, encode: EncodeAction, limit = MAX_TEXT_LENGTH): RenderedMessage {
  const sections: Section[] = [{ units: textUnits(message, limit) }];
  if (message.review) sections.push({ units: lineUnits(message.review.data, limit, escapeHtml), wrap: (inner) => `<blockquote>${inner}</blockquote>` });
  if (message.links && message.links.length > 0) {
    sections.push({ units: message.links.map((link) => unit(linkHtml(link.url, link.title ? truncate(link.title, 200) : undefined))) });
  }
  const parts = packSections(
    sections.filter((section) => section.units.some((u) => u.visible > 0)),
    limit,
  );
  // Telegram refuses an empty text; a message of only buttons still needs one.
  if (parts.length === 0) parts.push("…");
  const keyboard = inlineKeyboard(message.actions ?? [], encode);
  if (keyboard) return { parts, markup: keyboard };
  if (message.expectsText) return { parts, markup: { force_reply: true, input_field_placeholder: "Your answer" } };
  return { parts };
}

/**
 * The text for editMessageText: one message only, so longer content is cut with `…`
 * (status messages and acknowledgements are short). Buttons stay; without any, the
 * keyboard is removed explicitly (an empty inline keyboard), e.g. once a question is answered.
 */
export function renderEdit(message: OutboundMessage, encode: EncodeAction, limit = MAX_TEXT_LENGTH): { html: string; markup: InlineKeyboardMarkup } {
  const whole = renderMessage({ ...message, actions: [] }, encode, limit).parts;
  // Cut only what does not fit one message, keeping two characters for the mark.
  const html = whole.length === 1 ? whole[0]! : `${renderMessage({ ...message, actions: [] }, encode, limit - 2).parts[0]}\n…`;
  return { html, markup: inlineKeyboard(message.actions ?? [], encode) ?? { inline_keyboard: [] } };
}

/** The inline keyboard for actions, or undefined when there are none. */
export function inlineKeyboard(actions: readonly Action[], encode: EncodeAction): InlineKeyboardMarkup | undefined {
  if (actions.length === 0) return undefined;
  const button = (action: Action): InlineKeyboardButton.CallbackButton => ({
    text: action.label.trim() || "…",
    callback_data: encode(action.id),
    ...(action.style ? { style: action.style } : {}),
  });
  const rows: InlineKeyboardButton[][] = [];
  const review: InlineKeyboardButton[] = [];
  const cancel: InlineKeyboardButton[] = [];
  for (const action of actions) {
    if (action.role === "choice") rows.push([button(action)]);
    else if (action.role === "cancel") cancel.push(button(action));
    else review.push(button(action));
  }
  if (review.length > 0) rows.push(review);
  if (cancel.length > 0) rows.push(cancel);
  return { inline_keyboard: rows };
}

function textUnits(message: OutboundMessage, limit: number): Unit[] {
  const units = lineUnits(message.text, limit, markdownToHtml);
  // The status headline ("Working · demo") in bold; the bar and step below it.
  if (message.kind === "status" && units.length > 0) {
    const headline = message.text.split("\n", 1)[0]!;
    if (headline.length <= limit) units[0] = { html: `<b>${escapeHtml(headline)}</b>`, visible: headline.length };
  }
  return units;
}

function lineUnits(text: string, limit: number, render: (line: string) => string): Unit[] {
  const trimmed = trimText(text);
  if (trimmed === "") return [];
  const units: Unit[] = [];
  for (const line of trimmed.split("\n")) {
    if (line.length <= limit) units.push(unit(render(line)));
    else for (const piece of splitLine(line, limit)) units.push(unit(render(piece)));
  }
  return units;
}

/** The text without leading blank lines and trailing white space (what `/^\n+|\s+$/g` removes, without the regex's backtracking). */
function trimText(text: string): string {
  let start = 0;
  while (text.charCodeAt(start) === 10) start++;
  return (start > 0 ? text.slice(start) : text).trimEnd();
}

function unit(html: string): Unit {
  return { html, visible: visibleLength(html) };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
