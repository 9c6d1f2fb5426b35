import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseTelegramHtml } from "./html.ts";
import { startFakeTelegram, type FakeTelegram } from "./server.ts";
import { SpecValidator } from "./spec.ts";

// The fake is only useful if it refuses what Telegram refuses: a few checks of its own.
let fake: FakeTelegram;
beforeEach(async () => {
  fake = await startFakeTelegram();
});
afterEach(() => fake.close());

async function call(method: string, params: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${fake.apiRoot}/bot${token ?? fake.token}/${method}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(params) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("fake Telegram Bot API", () => {
  const spec = new SpecValidator();

  it("validates calls against the Bot API spec", () => {
    expect(spec.version).toMatch(/^Bot API/);
    expect(spec.validateCall("sendMessage", { chat_id: 1, text: "hi", parse_mode: "HTML" })).toEqual([]);
    expect(spec.validateCall("sendMessage", { text: "hi", colour: "red" })).toEqual(['sendMessage: unknown field "colour"', 'sendMessage: required field "chat_id" is missing']);
    expect(spec.validateCall("sendMessage", { chat_id: 1.5, text: "x" })[0]).toMatch(/chat_id: matches none of Integer \| String/);
    expect(spec.validateCall("sendMessage", { chat_id: 1, text: "x", reply_markup: { inline_keyboard: [[{ text: "A", callback_data: "x".repeat(65) }]] } })).toEqual([
      "sendMessage.reply_markup: matches none of InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply (sendMessage.reply_markup.inline_keyboard[0][0].callback_data: 65 bytes, must be 1-64; sendMessage.reply_markup: unknown field \"inline_keyboard\"; sendMessage.reply_markup: unknown field \"inline_keyboard\"; sendMessage.reply_markup: unknown field \"inline_keyboard\")",
    ]);
    expect(spec.validateCall("sendMessage", { chat_id: 1, text: "x".repeat(4097) })).toEqual(["sendMessage.text: 4097 characters after entity parsing, over 4096"]);
    expect(spec.validateCall("sendMessage", { chat_id: 1, text: "<b>x", parse_mode: "HTML" })[0]).toMatch(/can't parse entities/);
    expect(spec.validateCall("setMyCommands", { commands: [{ command: "Bad-Name", description: "x" }] })[0]).toMatch(/not 1-32 of a-z/);
  });

  it("parses Telegram HTML strictly", () => {
    expect(parseTelegramHtml('<b>a</b> &lt;&amp;&gt; <a href="https://x">y</a>')).toEqual({ ok: true, text: "a <&> y" });
    for (const bad of ["a & b", "<b>x</i>", "<script>", "<b>open", "a > b", '<a href="x"><a href="y">z</a></a>']) expect(parseTelegramHtml(bad).ok).toBe(false);
  });

  it("answers like Telegram: 401 for a wrong token, 400 with the violation, 404 for unknown methods", async () => {
    expect((await call("getMe", {}, "1:wrong")).status).toBe(401);
    const bad = await call("sendMessage", { chat_id: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.description).toMatch(/required field "text"/);
    expect((await call("noSuchMethod", {})).status).toBe(404);
    expect(fake.violations).toHaveLength(1);
  });

  it("serves getUpdates as a long poll that honours offset", async () => {
    const first = call("getUpdates", { offset: 0, timeout: 5 });
    await fake.waitUntil(() => fake.calls.length === 1);
    const update = fake.userMessage({ chatId: 7, text: "hello" });
    expect((await first).body.result).toEqual([update]);
    // Not confirmed yet: offset 0 returns it again; offset past it confirms it.
    expect(((await call("getUpdates", { offset: 0 })).body.result as unknown[]).length).toBe(1);
    expect((await call("getUpdates", { offset: Number(update.update_id) + 1 })).body.result).toEqual([]);
    expect(fake.pendingUpdates).toBe(0);
    expect(fake.violations).toEqual([]);
  });
});
