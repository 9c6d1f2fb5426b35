import { describe, expect, it } from "vitest";
import { CallbackData } from "../../adapters/telegram/callback-data.ts";
import { markdownToHtml } from "../../adapters/telegram/html.ts";
import { parseCommand, toInbound } from "../../adapters/telegram/inbound.ts";
import { renderEdit, renderMessage } from "../../adapters/telegram/render.ts";
import type { OutboundMessage } from "../../src/model.ts";
import { parseTelegramHtml } from "../fakes/telegram/html.ts";

const same = (id: string) => id;

describe("telegram rendering (unit)", () => {
  it("an edit that fits one message is shown whole; a longer one is cut with a mark, within 4,096 characters", () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i % 10}`).join(" ").slice(0, n);
    const full = words(4096);
    expect(renderEdit({ kind: "reply", text: full }, same).html).toBe(full);
    const cut = renderEdit({ kind: "reply", text: `${full} more` }, same).html;
    expect(cut.endsWith("\n…")).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(4096);
  });

  it("renders the markdown subset as Telegram HTML and escapes the rest", () => {
    expect(markdownToHtml("**bold** _it_ `a<b>` 1 < 2 & 3 > 1")).toBe("<b>bold</b> <i>it</i> <code>a&lt;b&gt;</code> 1 &lt; 2 &amp; 3 &gt; 1");
    expect(markdownToHtml("snake_case_name and __init__")).toBe("snake_case_name and __init__");
    // Crossed markers never produce crossed tags.
    expect(markdownToHtml("**a _b** c_")).toBe("<b>a _b</b> c_");
  });

  it("sends plain text as it is, without leading blank lines and trailing white space", () => {
    expect(renderMessage({ kind: "reply", text: "\n\nmessage 1 \t\n \n" }, same).parts).toEqual(["message 1"]);
    expect(renderMessage({ kind: "reply", text: "  two\nlines  " }, same).parts).toEqual(["  two\nlines"]);
    expect(renderMessage({ kind: "reply", text: " \n\n" }, same).parts).toEqual(["…"]);
    expect(markdownToHtml("plain words, no markup")).toBe("plain words, no markup");
  });

  it("produces valid Telegram HTML within 4,096 characters for any text (fuzzed)", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = ["*", "**", "_", "`", "<", ">", "&", "&amp;", '"', " ", "\n", "a", "b", "é", "😀", "https://x.y/?a=1&b=2"];
    for (let round = 0; round < 300; round++) {
      const length = Math.floor(random() * (round % 10 === 0 ? 6000 : 80));
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const message: OutboundMessage = { kind: round % 2 ? "status" : "review", text, review: { data: text.slice(0, 50) }, links: [{ url: "https://a.b/?q=<x>&y", title: text.slice(0, 20) }] };
      for (const part of [...renderMessage(message, same).parts, renderEdit(message, same).html]) {
        const parsed = parseTelegramHtml(part);
        expect(parsed.ok, `${JSON.stringify(text)} → ${part}`).toBe(true);
        if (parsed.ok) expect(parsed.text.length).toBeLessThanOrEqual(4096);
      }
    }
  });

  it("lays out buttons: choices one per row, review actions in one row, cancel alone", () => {
    const { markup } = renderMessage(
      {
        kind: "question",
        text: "?",
        actions: [
          { id: "c0", label: "A", role: "choice" },
          { id: "c1", label: "B", role: "choice" },
          { id: "x", label: "Cancel", role: "cancel", style: "danger" },
        ],
      },
      same,
    );
    expect(markup).toEqual({ inline_keyboard: [[{ text: "A", callback_data: "c0" }], [{ text: "B", callback_data: "c1" }], [{ text: "Cancel", callback_data: "x", style: "danger" }]] });
    expect(renderMessage({ kind: "question", text: "Your name?", expectsText: true }, same).markup).toEqual({ force_reply: true, input_field_placeholder: "Your answer" });
    expect(renderEdit({ kind: "notice", text: "answered" }, same).markup).toEqual({ inline_keyboard: [] });
  });

  it("maps long action ids to short callback_data and back, forgetting the least recently used", () => {
    const keys = new CallbackData(2);
    const ids = ["a".repeat(65), "b".repeat(65), "c".repeat(65)];
    const data = ids.map((id) => keys.encode(id));
    for (const d of data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);
    expect(keys.encode("cf:short:tok:0")).toBe("cf:short:tok:0");
    expect(keys.decode(data[0]!)).toBeUndefined();
    expect(keys.decode(data[2]!)).toBe(ids[2]);
    // An id that looks like a key is mapped too, so a key never collides with a real id.
    expect(keys.encode("~abc")).not.toBe("~abc");
  });

  it("parses commands, with or without @botname", () => {
    expect(parseCommand("/History@My_Bot  5 ")).toEqual({ name: "history", bot: "My_Bot", args: "5" });
    expect(parseCommand("/demo write\nabout owls")).toEqual({ name: "demo", args: "write\nabout owls" });
    expect(parseCommand("/ not a command")).toBeUndefined();
    expect(parseCommand("/usr/bin/env")).toBeUndefined();
  });

  it("ignores updates it can't read, with a reason", () => {
    const me = { id: 1, username: "b" };
    expect(toInbound(null, me)).toMatchObject({ type: "ignored" });
    expect(toInbound({ update_id: 1, message: { message_id: 1 } }, me)).toMatchObject({ type: "ignored", reason: expect.stringMatching(/malformed message/) });
    expect(toInbound({ update_id: 2, my_chat_member: {} }, me)).toMatchObject({ type: "ignored", reason: "unsupported update type: my_chat_member" });
  });
});
