import type { Action, OutboundMessage } from "../../src/model.ts";
import { escapeMrkdwn, linkMrkdwn, markdownToMrkdwn, plainText } from "./mrkdwn.ts";

/** Slack's limits on what a message may carry. */
export const LIMITS = {
  /** Characters of a section block's text. */
  sectionText: 3000,
  /** Blocks in one message. */
  blocks: 50,
  /** Elements of one actions block. */
  actionsPerBlock: 25,
  /** Characters of a button's text. */
  buttonText: 75,
  /** Characters of the top-level `text` (Slack truncates longer text). */
  text: 40_000,
} as const;

/** What the adapter reads off a button press: `action_id` starts with it. */
export const ACTION_PREFIX = "chatflow";

/** A Block Kit block, as far as chatflow builds them. */
export type Block = Record<string, unknown> & { type: string };

/** One Slack message: the notification `text` and the blocks. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** How an engine action id becomes a button `value` (at most 2,000 characters). */
export type EncodeAction = (actionId: string) => string;

/**
 * Renders an outbound message as Slack messages: the text (markdown subset as mrkdwn; a
 * status message's headline bold) in section blocks of at most 3,000 characters, the draft
 * under review quoted, the links as a list, and the buttons in actions blocks on the last
 * message. More than 50 blocks go out as several messages; nothing is cut.
 */
export function renderMessage(message: OutboundMessage, encode: EncodeAction): SlackMessage[] {
  const blocks: Block[] = [...textBlocks(message), ...reviewBlocks(message), ...linkBlocks(message)];
  const tail = [...actionBlocks(message.actions ?? [], encode), ...replyHint(message)];
  if (blocks.length === 0) blocks.push(section("…"));
  const messages: SlackMessage[] = [];
  for (let start = 0; start < blocks.length; start += LIMITS.blocks) {
    messages.push({ text: "", blocks: blocks.slice(start, start + LIMITS.blocks) });
  }
  const last = messages.at(-1)!;
  if (last.blocks.length + tail.length > LIMITS.blocks) messages.push({ text: "", blocks: tail });
  else last.blocks.push(...tail);
  for (const part of messages) part.text = fallbackText(message, part);
  return messages;
}

/**
 * One message for chat.update: the same blocks, cut to 50 with an ellipsis where longer
 * (status messages and acknowledgements are short). Without actions the buttons disappear.
 */
export function renderEdit(message: OutboundMessage, encode: EncodeAction): SlackMessage {
  const [first, ...rest] = renderMessage(message, encode);
  if (rest.length === 0) return first!;
  const tail = rest.at(-1)!.blocks.filter((b) => b.type === "actions" || b.type === "context");
  const room = LIMITS.blocks - tail.length - 1;
  return { text: first!.text, blocks: [...first!.blocks.filter((b) => b.type !== "actions").slice(0, room), section("…"), ...tail] };
}

/** The buttons of a message: Block Kit `actions` blocks of at most 25 buttons each. */
export function actionBlocks(actions: readonly Action[], encode: EncodeAction): Block[] {
  const blocks: Block[] = [];
  for (let start = 0; start < actions.length; start += LIMITS.actionsPerBlock) {
    const elements = actions.slice(start, start + LIMITS.actionsPerBlock).map((action, i) => button(action, start + i, encode));
    blocks.push({ type: "actions", block_id: `${ACTION_PREFIX}_actions_${start / LIMITS.actionsPerBlock}`, elements });
  }
  return blocks;
}

function button(action: Action, index: number, encode: EncodeAction): Block {
  const label = plainText(action.label).trim() || "…";
  return {
    type: "button",
    // Unique within the message, and says what the button does (Edit opens a modal); the
    // engine's id travels in `value`.
    action_id: `${ACTION_PREFIX}:${action.role}:${index}`,
    text: { type: "plain_text", text: truncate(label, LIMITS.buttonText), emoji: true },
    value: encode(action.id),
    ...(action.style ? { style: action.style } : {}),
  };
}

function textBlocks(message: OutboundMessage): Block[] {
  const text = message.text.replace(/^\n+|\s+$/g, "");
  if (text === "") return [];
  const lines = text.split("\n").map(markdownToMrkdwn);
  // The status headline ("Working · demo") in bold.
  if (message.kind === "status" && lines[0]) lines[0] = `*${lines[0]}*`;
  return chunkLines(lines, LIMITS.sectionText).map(section);
}

function reviewBlocks(message: OutboundMessage): Block[] {
  const data = message.review?.data.replace(/^\n+|\s+$/g, "");
  if (!data) return [];
  // The draft quoted: `>` at each line's start is mrkdwn; the text itself is escaped.
  const lines = data.split("\n").map((line) => `>${markdownToMrkdwn(line)}`);
  return [{ type: "divider" }, ...chunkLines(lines, LIMITS.sectionText).map(section)];
}

function linkBlocks(message: OutboundMessage): Block[] {
  if (!message.links || message.links.length === 0) return [];
  const lines = message.links.map((link) => `• ${linkMrkdwn(link.url, link.title ? truncate(link.title, 200) : undefined)}`);
  return chunkLines(lines, LIMITS.sectionText).map(section);
}

function replyHint(message: OutboundMessage): Block[] {
  if (!message.expectsText || (message.actions?.length ?? 0) > 0) return [];
  return [{ type: "context", elements: [{ type: "mrkdwn", text: "Reply in this thread with your answer." }] }];
}

function section(text: string): Block {
  return { type: "section", text: { type: "mrkdwn", text } };
}

/** Lines joined into chunks of at most `limit` characters; a longer line is cut into pieces. */
export function chunkLines(lines: readonly string[], limit: number): string[] {
  const chunks: string[] = [];
  let current = "";
  for (const line of lines.flatMap((l) => splitLong(l, limit))) {
    if (current !== "" && current.length + 1 + line.length > limit) {
      chunks.push(current);
      current = "";
    }
    current = current === "" ? line : `${current}\n${line}`;
  }
  if (current.trim() !== "") chunks.push(current);
  return chunks;
}

/** A line over `limit` cut at spaces where it can, never inside an escape like `&amp;`. */
function splitLong(line: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf(" ", limit);
    if (cut < limit / 2) cut = limit;
    const amp = rest.lastIndexOf("&", cut);
    if (amp > cut - 6 && rest.indexOf(";", amp) >= cut) cut = amp;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, "");
  }
  pieces.push(rest);
  return pieces;
}

/**
 * The notification text of a message (what a phone shows): its first words, escaped like
 * the blocks (Slack reads this field as mrkdwn too, so it could otherwise ping a channel).
 */
function fallbackText(message: OutboundMessage, part: SlackMessage): string {
  const first = part.blocks.find((b) => b.type === "section") as { text?: { text?: string } } | undefined;
  if (message.text.trim() === "") return first?.text?.text?.slice(0, 300) || "…";
  return escapeMrkdwn(truncate(plainText(message.text).replace(/\s*\n\s*/g, " "), 300)) || "…";
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
