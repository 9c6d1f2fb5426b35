import type { TextStyle } from "./style.ts";

// A code span: markers inside it are literal.
const CODE_SPAN = /(`[^`\n]+`)/;
const BOLD = /\*\*(?=\S)(.+?)(?<=\S)\*\*/g;
// `_x_` only at word edges, so snake_case and __dunder__ names keep their underscores.
const ITALIC = /(^|[^\p{L}\p{N}_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\p{L}\p{N}_])/gu;

/**
 * Renders chatflow's markdown subset for a terminal.
 * - `**bold**` / `_italic_`: ANSI bold / italic with color, markers stripped without.
 * - `` `code` ``: cyan without backticks with color; without color the backticks stay,
 *   since they still tell the reader the text is literal (a command to type, a file name).
 * - bare links: unchanged (terminals make them clickable).
 */
export function renderMarkdown(text: string, style: TextStyle): string {
  return text
    .split(CODE_SPAN)
    .map((part, index) => (index % 2 === 1 ? renderCode(part, style) : renderEmphasis(part, style)))
    .join("");
}

/** Removes every markdown marker: for single-line labels where styling does not fit. */
export function plainText(text: string): string {
  return text
    .split(CODE_SPAN)
    .map((part, index) => (index % 2 === 1 ? part.slice(1, -1) : part.replace(BOLD, "$1").replace(ITALIC, "$1$2")))
    .join("");
}

function renderCode(span: string, style: TextStyle): string {
  return style.color ? style.code(span.slice(1, -1)) : span;
}

function renderEmphasis(text: string, style: TextStyle): string {
  return text
    .replace(BOLD, (_match, inner: string) => style.bold(inner))
    .replace(ITALIC, (_match, before: string, inner: string) => before + style.italic(inner));
}

// What can still open a marker pair: `**`, a backtick, an `_` at a word's start. A lone `*`
// opens nothing (bold needs two), and an `_` inside a word (snake_case) can't open italic.
const OPENER = /\*\*|`|(?:^|[^\p{L}\p{N}_])_(?=\S|$)/u;

/** Cuts tried per call: a marker left open (a backtick never closed) must not make each edit of a long line slow. */
const MAX_CUTS = 64;

/**
 * How much of `text`, a text still being written, renders the same whatever is appended:
 * every finished line, and of the last line the longest start whose markers are all closed
 * (ending at a space, since `_x_` followed by a letter is no italic), without trailing
 * whitespace. Markers are line-local, so a finished line never changes. `renderMarkdown` of
 * a longer settled start begins with `renderMarkdown` of a shorter one: printing the
 * difference as the text grows gives what rendering the whole text at once gives.
 * `from`: how much is printed already; a shorter start is of no use (it may be returned).
 */
export function settledLength(text: string, from = 0): number {
  const lineStart = text.lastIndexOf("\n") + 1;
  const line = text.slice(lineStart);
  if (settled(line)) return text.trimEnd().length;
  let cuts = 0;
  for (let end = line.length - 1; end > 0 && lineStart + end > from && cuts < MAX_CUTS; end--) {
    if (!/\s/.test(line[end - 1]!)) continue;
    cuts++;
    if (settled(line.slice(0, end))) return text.slice(0, lineStart + end).trimEnd().length;
  }
  return text.slice(0, lineStart).trimEnd().length;
}

/** Whether one line's markers are closed, so appending can't restyle what is there. */
function settled(line: string): boolean {
  // A trailing `*` may become `**`; a trailing `_` may close an italic or stop being one.
  if (/[*_]$/.test(line)) return false;
  return line
    .split(CODE_SPAN)
    .every((part, index) => index % 2 === 1 || !OPENER.test(part.replace(BOLD, "$1").replace(ITALIC, "$1$2")));
}
