/**
 * chatflow's markdown subset as Telegram HTML (parse_mode "HTML"): `**bold**` → <b>,
 * `_italic_` → <i>, `` `code` `` → <code>; everything else is escaped, so text a person
 * typed (`<b>&`) shows literally. Bare links stay text: Telegram makes them clickable.
 */

// A code span: markers inside it are literal.
const CODE_SPAN = /(`[^`\n]+`)/;
const BOLD = /\*\*(?=\S)(.+?)(?<=\S)\*\*/g;
// `_x_` only at word edges (snake_case keeps its underscores), and never across a tag,
// so `**a _b** c_` can't produce crossed tags Telegram would refuse.
const ITALIC = /(^|[^\p{L}\p{N}_])_(?=\S)([^_\n<>]+?)(?<=\S)_(?![\p{L}\p{N}_])/gu;

const NEEDS_ESCAPE = /[&<>]/;
/** Any character the markdown subset gives a meaning to, or that HTML needs escaped. */
const SPECIAL = /[&<>*_`]/;

/** Escapes text for Telegram HTML: `&`, `<` and `>` (the characters it requires escaped). */
export function escapeHtml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes an attribute value (double-quoted). */
export function escapeAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, "&quot;");
}

/**
 * Renders one piece of text (markdown subset) as Telegram HTML. Spans never cross a line
 * break, so rendering line by line gives the same result as rendering the whole text.
 */
export function markdownToHtml(text: string): string {
  // Plain text (most messages) is its own HTML.
  if (!SPECIAL.test(text)) return text;
  if (!text.includes("`")) return emphasis(escapeHtml(text));
  return text
    .split(CODE_SPAN)
    .map((part, index) => (index % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : emphasis(escapeHtml(part))))
    .join("");
}

function emphasis(escaped: string): string {
  if (!escaped.includes("*") && !escaped.includes("_")) return escaped;
  return escaped.replace(BOLD, "<b>$1</b>").replace(ITALIC, "$1<i>$2</i>");
}

/** A link as `<a href>`, for http(s) and tg: URLs; anything else stays plain text. */
export function linkHtml(url: string, title?: string): string {
  const label = escapeHtml(title?.trim() || url);
  return /^(https?|tg):/i.test(url) ? `<a href="${escapeAttribute(url)}">${label}</a>` : label;
}

/**
 * The length Telegram checks against its 4,096 limit: the text after entity parsing
 * (tags removed, entities decoded), in UTF-16 code units, as JavaScript counts.
 */
export function visibleLength(html: string): number {
  if (!html.includes("<") && !html.includes("&")) return html.length;
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&(?:lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/gi, "_").length;
}
