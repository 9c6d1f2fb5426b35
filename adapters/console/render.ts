import type { Action, OutboundMessage, Progress } from "../../src/model.ts";
import { plainText, renderMarkdown } from "./markdown.ts";
import { formatProgressLine } from "./progress-line.ts";
import type { AnswerLook } from "./screen.ts";
import type { TextStyle } from "./style.ts";

/** Starts every line of the bot's text, like a chat transcript. */
export const BOT_PREFIX = "bot> ";
/** Indent of the lines that belong to a message without being its text (choices, hints, links). */
const INDENT = "  ";
const RULE = "─".repeat(40);
// What to type for each review action, in the order shown.
const REVIEW_WORDS: ReadonlyArray<[Action["role"], string]> = [
  ["approve", "approve"],
  ["reject", "reject [reason]"],
  ["edit", "edit"],
];

/** A `status` message that carries progress: shown as one bar line, redrawn as it changes. */
export type ProgressMessage = OutboundMessage & { kind: "status"; progress: Progress };

export function isProgressMessage(message: OutboundMessage): message is ProgressMessage {
  return message.kind === "status" && message.progress !== undefined;
}

/**
 * The bar line of a status message, with the bot prefix. `maxWidth` (terminal columns)
 * shortens it to one screen row, since a wrapped line can't be redrawn in place.
 */
export function renderProgressLine(message: ProgressMessage, style: TextStyle, maxWidth?: number): string {
  const label = plainText(message.text.split("\n", 1)[0] ?? "").trim();
  let line = formatProgressLine(message.progress, label);
  if (maxWidth !== undefined && maxWidth > BOT_PREFIX.length + 1) line = truncate(line, maxWidth - BOT_PREFIX.length - 1);
  const { state } = message.progress;
  const styled = state === "completed" ? style.success(line) : state === "failed" ? style.failure(line) : line;
  return style.dim(BOT_PREFIX) + styled;
}

/**
 * A reply that is only text (no choices, review, links or hint): the kind a streamed model
 * answer arrives as, so it is printed as it grows (see `ConsoleScreen.answer`).
 */
export function isPlainReply(message: OutboundMessage): boolean {
  return (
    message.kind === "reply" &&
    message.text.trim() !== "" &&
    !message.actions?.length &&
    message.review === undefined &&
    !message.links?.length &&
    !message.expectsText
  );
}

/** How a growing answer looks: its lines as `renderMessage` shows a text, and its marks. */
export function answerLook(style: TextStyle): AnswerLook {
  return {
    render(text, continued) {
      return renderMarkdown(text, style)
        .split("\n")
        .map((line, index) => (style.dim(BOT_PREFIX) + (index === 0 && continued ? style.dim("…") : "") + line).trimEnd())
        .join("\n");
    },
    // Above the new version of an answer that does not go on from what was printed (a retried
    // model call starting over). Lines already printed can't be taken back (they may have
    // scrolled away, and a pipe can't erase), and without a mark the new version would read
    // as a second answer; indented and dim like the other lines that aren't the bot's words.
    restarted: INDENT + style.dim("(answer restarted)"),
  };
}

/**
 * The lines a person sees for one outbound message (without line ends):
 * the text after `bot> `, then per kind numbered choices, the review draft between rules,
 * the review words, numbered links, and a hint on what to type.
 */
export function renderMessage(message: OutboundMessage, style: TextStyle): string[] {
  if (isProgressMessage(message)) return [renderProgressLine(message, style)];
  const lines: string[] = [];
  if (message.text.trim() !== "") {
    for (const line of renderMarkdown(message.text, style).split("\n")) lines.push((style.dim(BOT_PREFIX) + line).trimEnd());
  }
  if (message.review !== undefined) {
    lines.push(INDENT + style.dim(RULE));
    // The draft is shown verbatim: it is what the person approves or edits.
    for (const line of message.review.data.split("\n")) lines.push((INDENT + line).trimEnd());
    lines.push(INDENT + style.dim(RULE));
  }
  lines.push(...renderActions(message, style));
  (message.links ?? []).forEach((link, index) => {
    const title = link.title?.trim();
    lines.push(`${INDENT}[${index + 1}] ${title ? `${title} — ${link.url}` : link.url}`);
  });
  if (lines.length === 0) lines.push(style.dim(BOT_PREFIX).trimEnd());
  return lines;
}

function renderActions(message: OutboundMessage, style: TextStyle): string[] {
  const actions = message.actions ?? [];
  const choices = actions.filter((action) => action.role === "choice");
  const lines = choices.map((choice, index) => `${INDENT}${index + 1}) ${choice.label}`);
  const words = REVIEW_WORDS.filter(([role]) => actions.some((action) => action.role === role)).map(([, word]) => word);
  if (words.length > 0) lines.push(INDENT + words.join(" | "));
  if (choices.length > 0) {
    const own = message.expectsText ? " or your own answer" : "";
    lines.push(INDENT + style.dim(`(type a number${own}, or /cancel)`));
  } else if (message.expectsText && actions.length === 0) {
    lines.push(INDENT + style.dim("(type your answer)"));
  }
  return lines;
}

function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  return chars.length <= width ? text : chars.slice(0, width - 1).join("") + "…";
}
