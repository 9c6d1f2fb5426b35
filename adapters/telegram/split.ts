/** One line of a message, rendered, with the length Telegram counts for it. */
export interface Unit {
  html: string;
  /** Visible length (after entity parsing) in UTF-16 code units. */
  visible: number;
}

/** A part of a message (its text, the draft under review, the links), as lines. */
export interface Section {
  units: Unit[];
  /** Wraps a run of this section's lines that land in one message, e.g. in <blockquote>. */
  wrap?: (inner: string) => string;
}

const SECTION_GAP = "\n\n";

/**
 * Packs sections into as few messages as possible, each at most `limit` visible characters.
 * Lines stay whole unless one alone is longer than `limit` (see {@link splitLine}); a
 * section that doesn't fit goes on in the next message, re-wrapped there.
 */
export function packSections(sections: readonly Section[], limit: number): string[] {
  if (sections.length === 1) {
    // One section that fits (most messages): one message, no packing.
    const { units, wrap } = sections[0]!;
    let size = units.length - 1;
    for (const unit of units) size += unit.visible;
    if (size > 0 && size <= limit) {
      const inner = units.length === 1 ? units[0]!.html : units.map((unit) => unit.html).join("\n");
      return [wrap ? wrap(inner) : inner];
    }
  }
  const messages: string[] = [];
  let html = "";
  let used = 0;
  const flush = () => {
    if (used > 0 || html !== "") messages.push(html);
    html = "";
    used = 0;
  };
  for (const section of sections) {
    let index = 0;
    while (index < section.units.length) {
      const gap = html === "" ? 0 : SECTION_GAP.length;
      const budget = limit - used - gap;
      let take = 0;
      let size = 0;
      while (index + take < section.units.length) {
        const unit = section.units[index + take]!;
        const add = unit.visible + (take > 0 ? 1 : 0);
        if (size + add > budget) break;
        size += add;
        take++;
      }
      if (take === 0) {
        // Not even one line fits after what is there: start a new message (lines are ≤ limit).
        flush();
        continue;
      }
      const inner = section.units
        .slice(index, index + take)
        .map((unit) => unit.html)
        .join("\n");
      html += (gap > 0 ? SECTION_GAP : "") + (section.wrap ? section.wrap(inner) : inner);
      used += gap + size;
      index += take;
      if (index < section.units.length) flush();
    }
  }
  flush();
  return messages;
}

/**
 * Splits one source line into pieces of at most `limit` UTF-16 units: at the last space in
 * the second half of the window when there is one, else hard (never inside a surrogate pair).
 */
export function splitLine(line: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf(" ", limit);
    if (cut < limit / 2) cut = limit;
    // Don't split a surrogate pair (emoji and other astral characters).
    const code = rest.charCodeAt(cut - 1);
    if (cut === limit && code >= 0xd800 && code <= 0xdbff) cut -= 1;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, "");
  }
  pieces.push(rest);
  return pieces;
}
