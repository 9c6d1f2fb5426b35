/**
 * A checker for Telegram's HTML parse mode, as strict as the Bot API's "can't parse
 * entities" errors: only the documented tags and attributes, properly nested and closed;
 * `<`, `>` and `&` outside tags and entities refused; only &lt; &gt; &amp; &quot; and
 * numeric entities. Returns the visible text (what Telegram stores and counts).
 */

const TAGS: Record<string, readonly string[]> = {
  b: [],
  strong: [],
  i: [],
  em: [],
  u: [],
  ins: [],
  s: [],
  strike: [],
  del: [],
  "tg-spoiler": [],
  span: ["class"],
  a: ["href"],
  code: ["class"],
  pre: [],
  blockquote: ["expandable"],
  "tg-emoji": ["emoji-id"],
};

const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

export type HtmlResult = { ok: true; text: string } | { ok: false; error: string };

export function parseTelegramHtml(html: string): HtmlResult {
  const stack: string[] = [];
  let text = "";
  let i = 0;
  const fail = (error: string): HtmlResult => ({ ok: false, error: `${error} at byte offset ${Buffer.byteLength(html.slice(0, i))}` });
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === "<") {
      const end = html.indexOf(">", i);
      if (end < 0) return fail("Unclosed start tag");
      const tag = html.slice(i + 1, end);
      if (tag.startsWith("/")) {
        const name = tag.slice(1).trim().toLowerCase();
        const open = stack.pop();
        if (open !== name) return fail(`Unmatched end tag "${name}", expected "</${open ?? "nothing"}>"`);
      } else {
        const match = /^([a-z-]+)((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*$/i.exec(tag);
        if (!match) return fail(`Can't parse start tag "${tag}"`);
        const name = match[1]!.toLowerCase();
        const allowed = TAGS[name];
        if (!allowed) return fail(`Unsupported start tag "${name}"`);
        for (const attr of (match[2] ?? "").trim().split(/\s+(?=[a-z-]+(?:=|$|\s))/i).filter(Boolean)) {
          const attrName = attr.split("=", 1)[0]!.toLowerCase();
          if (!allowed.includes(attrName)) return fail(`Unsupported attribute "${attrName}" in tag "${name}"`);
        }
        if (name === "span" && !/class="tg-spoiler"/.test(tag)) return fail('Tag "span" must have class "tg-spoiler"');
        if (name === "a" && !/href="[^"]+"/.test(tag)) return fail('Tag "a" must have an href');
        if (name === "a" && stack.includes("a")) return fail("Nested links are not allowed");
        if ((stack.includes("pre") || stack.includes("code")) && !(name === "code" && stack.at(-1) === "pre")) return fail(`Entities inside "${stack.at(-1)}" are not allowed`);
        if (name === "blockquote" && stack.includes("blockquote")) return fail("Nested blockquotes are not allowed");
        stack.push(name);
      }
      i = end + 1;
    } else if (ch === "&") {
      const match = /^&(lt|gt|amp|quot|#(\d+)|#x([0-9a-f]+));/i.exec(html.slice(i, i + 12));
      if (!match) return fail("Character '&' is reserved and must be escaped as &amp;");
      const named = NAMED[match[1]!.toLowerCase()];
      text += named ?? String.fromCodePoint(match[2] ? Number(match[2]) : parseInt(match[3]!, 16));
      i += match[0].length;
    } else if (ch === ">") {
      return fail("Character '>' is reserved and must be escaped as &gt;");
    } else {
      text += ch;
      i++;
    }
  }
  if (stack.length > 0) return { ok: false, error: `Can't find end tag corresponding to start tag "${stack.at(-1)}"` };
  return { ok: true, text };
}
