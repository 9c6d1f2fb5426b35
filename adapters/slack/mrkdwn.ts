/**
 * chatflow's markdown subset as Slack mrkdwn: `**bold**` → `*bold*`, `_italic_` stays,
 * `` `code` `` stays; `&`, `<` and `>` are escaped everywhere, so text a person typed can
 * never become a mention (`<!channel>`, `<!here>`, `<@U123>`) or a link. Bare links stay
 * text: Slack makes them clickable.
 */

// A code span: markers inside it are literal.
const CODE_SPAN = /(`[^`\n]+`)/;
const BOLD = /\*\*(?=\S)(.+?)(?<=\S)\*\*/g;
const NEEDS_ESCAPE = /[&<>]/;

/** Escapes the three characters Slack gives a meaning to in mrkdwn and plain_text. */
export function escapeMrkdwn(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Renders the markdown subset as mrkdwn (line by line gives the same result as the whole). */
export function markdownToMrkdwn(text: string): string {
  if (!text.includes("*")) return escapeMrkdwn(text);
  return text
    .split(CODE_SPAN)
    .map((part, index) => (index % 2 === 1 ? escapeMrkdwn(part) : escapeMrkdwn(part).replace(BOLD, "*$1*")))
    .join("");
}

/** Removes the markers: for plain_text fields (button labels, notification text). */
export function plainText(text: string): string {
  return text.split(CODE_SPAN).map((part, index) => (index % 2 === 1 ? part.slice(1, -1) : part.replace(BOLD, "$1"))).join("");
}

/** A link as `<url|title>` for http(s) URLs (title escaped, `|` removed); anything else plain text. */
export function linkMrkdwn(url: string, title?: string): string {
  const label = escapeMrkdwn((title?.trim() || url).replace(/\|/g, "¦"));
  if (!/^https?:\/\/[^\s<>|]+$/i.test(url)) return label;
  return `<${url.replace(/&/g, "&amp;")}|${label}>`;
}
