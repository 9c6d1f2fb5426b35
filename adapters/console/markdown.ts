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
