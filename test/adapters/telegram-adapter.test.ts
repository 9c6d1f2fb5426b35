import { afterEach, describe, expect, it } from "vitest";
import type { TelegramAdapterOptions } from "../../adapters/telegram/index.ts";
import { AuthenticationError, NetworkError, NotFoundError, PermissionError, RateLimitError } from "../../src/errors.ts";
import type { Action, Address, InboundEvent } from "../../src/model.ts";
import { startFakeTelegram, type FakeTelegram } from "../fakes/telegram/server.ts";
import { parseTelegramHtml } from "../fakes/telegram/html.ts";
import { ALICE, aliceAddress, cleanupList, keyboardOf, telegramAdapterFor } from "./telegram-setup.ts";

// The adapter alone (a recording handler instead of the engine) against the fake Bot API.
const cleanup = cleanupList();
afterEach(() => cleanup.run());

const GROUP = -100777;

async function setup(options: Partial<TelegramAdapterOptions> = {}, handle?: (event: InboundEvent) => Promise<void>) {
  const fake = await startFakeTelegram();
  cleanup.add(async () => {
    await fake.close();
    // Every call the adapter made conforms to the Bot API spec.
    expect(fake.violations).toEqual([]);
  });
  const adapter = telegramAdapterFor(fake, options);
  const events: InboundEvent[] = [];
  await adapter.start(async (event) => {
    events.push(event);
    await handle?.(event);
  });
  cleanup.add(() => adapter.stop());
  const eventCount = (n: number) => fake.waitUntil(() => events.length >= n, 5000, `${n} events`);
  return { fake, adapter, events, eventCount };
}

const strip = ({ raw: _raw, ...event }: InboundEvent) => event;

describe("telegram adapter: scheduled posts and failures", () => {
  it("posts to a chat id (a scheduled post) in HTML", async () => {
    const { fake, adapter } = await setup();
    const sent = await adapter.send({ platform: "telegram", channel: "-100500", user: "scheduler" }, { kind: "notice", text: "Daily digest: **3** new items" });
    const call = fake.callsOf("sendMessage").at(-1)!;
    expect(call.params).toMatchObject({ chat_id: -100500, text: "Daily digest: <b>3</b> new items", parse_mode: "HTML" });
    expect(fake.message(-100500, Number(sent.id))?.text).toBe("Daily digest: 3 new items");
  });

  it("a 403 (bot blocked or removed) rejects with PermissionError; 400 chat not found with NotFoundError; neither names the token", async () => {
    const { fake, adapter } = await setup();
    fake.blocked.add(2002);
    fake.missing.add(3003);
    const blocked = await adapter.send({ platform: "telegram", channel: "2002", user: "scheduler" }, { kind: "notice", text: "hi" }).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(PermissionError);
    expect((blocked as Error).message).toContain("bot was blocked by the user");
    const missing = await adapter.send({ platform: "telegram", channel: "3003", user: "scheduler" }, { kind: "notice", text: "hi" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as Error).message).toContain("chat not found");
    for (const error of [blocked, missing]) expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })).not.toContain(fake.token);
  });

  it("a 429 asking for longer than retry.maxRetryAfterSeconds rejects with RateLimitError carrying retry_after", async () => {
    const { fake, adapter } = await setup({ retry: { maxRetryAfterSeconds: 5 } });
    fake.fail({ method: "sendMessage", failure: { kind: "rate-limit", retryAfter: 120 } });
    const error = await adapter.send(aliceAddress, { kind: "notice", text: "hi" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(120_000);
  });

  it("edit ignores 'message is not modified' and rejects a missing message with NotFoundError", async () => {
    const { fake, adapter } = await setup();
    const sent = await adapter.send(aliceAddress, { kind: "notice", text: "same" });
    await adapter.edit!(aliceAddress, sent.id, { kind: "notice", text: "same" });
    expect(fake.callsOf("editMessageText", { all: true }).at(-1)?.description).toMatch(/message is not modified/);
    await expect(adapter.edit!(aliceAddress, "999999", { kind: "notice", text: "x" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("typing() sends the typing chat action", async () => {
    const { fake, adapter } = await setup();
    await adapter.typing!({ ...aliceAddress });
    expect(fake.callsOf("sendChatAction").at(-1)?.params).toEqual({ chat_id: ALICE, action: "typing" });
  });
});

describe("telegram adapter: rendering", () => {
  it("escapes HTML in text a person typed: <b>& shows literally", async () => {
    const { fake, adapter } = await setup();
    const sent = await adapter.send(aliceAddress, { kind: "reply", text: "You said: <b>& \"quotes\" **bold** `x < y`" });
    expect(fake.callsOf("sendMessage").at(-1)?.params.text).toBe('You said: &lt;b&gt;&amp; "quotes" <b>bold</b> <code>x &lt; y</code>');
    expect(fake.message(ALICE, Number(sent.id))?.text).toBe('You said: <b>& "quotes" bold x < y');
    expect(fake.violations).toEqual([]);
  });

  it("splits a message over 4,096 characters, buttons on the last part, and returns the last part's id", async () => {
    const { fake, adapter } = await setup();
    const line = "All work and no play makes Jack a dull boy & <so> on. ".repeat(3);
    const text = Array.from({ length: 70 }, (_, i) => `${i}: ${line}`).join("\n");
    expect(text.length).toBeGreaterThan(10_000);
    const actions: Action[] = [{ id: "cf:t1:tok:0", label: "OK", role: "choice" }];
    const sent = await adapter.send(aliceAddress, { kind: "question", text, actions });
    const parts = fake.botMessages(ALICE);
    expect(parts.length).toBe(3);
    for (const part of parts) expect(part.text.length).toBeLessThanOrEqual(4096);
    expect(parts.map((p) => p.text).join("\n")).toBe(text.trimEnd());
    expect(parts.map((p) => keyboardOf(p))).toEqual([[], [], [["OK"]]]);
    expect(sent.id).toBe(String(parts[2]!.message_id));
    expect(fake.violations).toEqual([]);
  });

  it("keeps callback_data within 64 bytes whatever the ids, and hands the original ids back", async () => {
    const { fake, adapter, events, eventCount } = await setup();
    const long = (n: number) => `cf:${"é".repeat(60)}-${n}:tok:${n}`;
    const actions: Action[] = [0, 1, 2].map((n) => ({ id: long(n), label: `Choice ${n}`, role: "choice" }));
    const sent = await adapter.send(aliceAddress, { kind: "question", text: "Pick", actions });
    const buttons = (fake.message(ALICE, Number(sent.id))!.reply_markup!.inline_keyboard as Array<Array<{ callback_data: string }>>).flat();
    for (const button of buttons) expect(Buffer.byteLength(button.callback_data)).toBeLessThanOrEqual(64);
    fake.press({ chatId: ALICE, messageId: Number(sent.id), label: "Choice 2" });
    fake.press({ chatId: ALICE, messageId: Number(sent.id), label: "Choice 0" });
    await eventCount(2);
    expect(events.map((e) => (e.kind === "action" ? e.actionId : ""))).toEqual([long(2), long(0)]);
    expect(fake.violations).toEqual([]);
  });

  it("a button whose long id was forgotten (a restart) is answered with an 'expired' notice and not handed over", async () => {
    const first = await setup();
    const sent = await first.adapter.send(aliceAddress, { kind: "question", text: "Pick", actions: [{ id: `cf:${"x".repeat(80)}:t:0`, label: "A", role: "choice" }] });
    await first.adapter.stop();
    const second = telegramAdapterFor(first.fake);
    const events: InboundEvent[] = [];
    await second.start(async (event) => void events.push(event));
    cleanup.add(() => second.stop());
    const query = first.fake.press({ chatId: ALICE, messageId: Number(sent.id), label: "A" });
    const answer = await first.fake.waitForCall((c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === query);
    expect(String(answer.params.text)).toMatch(/expired/);
    expect(events).toEqual([]);
  });
});

describe("telegram adapter: inbound updates", () => {
  it("ignores malformed and unsupported updates without crashing, and goes on with the next ones", async () => {
    const { fake, events, eventCount } = await setup();
    const junk: unknown[] = [
      { message: null },
      { message: "not an object" },
      { message: { message_id: 1 } },
      { message: { message_id: 2, date: 0, chat: { id: "x", type: "private" }, from: { id: 5, is_bot: false, first_name: "a" }, text: "bad chat id" } },
      { message: { message_id: 3, date: 0, chat: { id: 5, type: "private" }, from: { id: 5, is_bot: false, first_name: "a" }, text: 42 } },
      { message: { message_id: 4, date: 0, chat: { id: 5, type: "private" }, from: { id: 5, is_bot: false, first_name: "a" }, sticker: {} } },
      { callback_query: { id: "cq-broken" } },
      { callback_query: null },
      { edited_message: { message_id: 5, date: 0, chat: { id: 5, type: "private" }, text: "edited" } },
      { poll: {} },
      {},
      { update_id: 999_999_999, unknown_kind: { a: 1 } },
    ];
    for (const update of junk) fake.queueRaw(update);
    fake.userMessage({ chatId: ALICE, text: "still alive" });
    await eventCount(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.map(strip)).toEqual([{ id: expect.any(String), kind: "message", text: "still alive", address: aliceAddress, platformMessageId: expect.any(String) }]);
    // The broken button press still got its spinner stopped... as far as Telegram knows the id.
    expect(fake.callsOf("answerCallbackQuery", { all: true }).map((c) => c.params.callback_query_id)).toEqual(["cq-broken"]);
    // Every update was confirmed: none comes back.
    await fake.waitUntil(() => fake.pendingUpdates === 0);
  });

  it("in groups hands over only commands, mentions and replies to the bot", async () => {
    const { fake, events, eventCount } = await setup();
    const from = 4004;
    const group: Address = { platform: "telegram", channel: String(GROUP), user: String(from) };
    fake.userMessage({ chatId: GROUP, userId: from, text: "just chatting" });
    fake.userMessage({ chatId: GROUP, userId: from, text: "/status@other_bot" });
    fake.userMessage({ chatId: GROUP, userId: from, text: "/status@chatflow_test_bot" });
    fake.userMessage({ chatId: GROUP, userId: from, text: "@chatflow_test_bot tell me   about owls" });
    const botPost = fake.botMessages(GROUP)[0];
    expect(botPost).toBeUndefined();
    fake.userMessage({ chatId: GROUP, userId: from, text: "a reply", replyTo: { message_id: 1, from: fake.bot, chat: { id: GROUP, type: "supergroup", title: "g" }, date: 0, text: "prompt" } });
    await eventCount(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.map(strip)).toEqual([
      { id: expect.any(String), kind: "command", name: "status", args: "", address: group, platformMessageId: expect.any(String) },
      { id: expect.any(String), kind: "message", text: "tell me about owls", address: group, platformMessageId: expect.any(String) },
      { id: expect.any(String), kind: "message", text: "a reply", address: group, platformMessageId: expect.any(String) },
    ]);
  });

  it("forum topics are threads: the address carries the topic and replies go to it", async () => {
    const { fake, adapter, events, eventCount } = await setup();
    fake.forums.add(GROUP);
    fake.userMessage({ chatId: GROUP, userId: 4004, threadId: 42, text: "/help" });
    await eventCount(1);
    expect(events[0]!.address).toEqual({ platform: "telegram", channel: String(GROUP), user: "4004", thread: "42" });
    await adapter.send(events[0]!.address, { kind: "reply", text: "in the topic" });
    expect(fake.callsOf("sendMessage").at(-1)?.params).toMatchObject({ chat_id: GROUP, message_thread_id: 42 });
    expect(fake.violations).toEqual([]);
  });

  it("stop() waits for the update in hand; updates not handed over stay unconfirmed and come on the next start", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { fake, adapter, events, eventCount } = await setup({}, async () => gate);
    cleanup.add(async () => release());
    for (const text of ["one", "two", "three"]) fake.userMessage({ chatId: ALICE, text });
    await eventCount(1);
    let stopped = false;
    const stopping = adapter.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(events.map((e) => (e.kind === "message" ? e.text : ""))).toEqual(["one"]);

    const next = telegramAdapterFor(fake);
    const later: string[] = [];
    await next.start(async (event) => void later.push(event.kind === "message" ? event.text : ""));
    cleanup.add(() => next.stop());
    await fake.waitUntil(() => later.length >= 2);
    expect(later).toEqual(["two", "three"]);
  });
});

describe("telegram adapter: start", () => {
  it("a rejected token fails start() with AuthenticationError naming TELEGRAM_BOT_TOKEN, without the token", async () => {
    const fake: FakeTelegram = await startFakeTelegram();
    cleanup.add(() => fake.close());
    const token = "987654321:WRONG-secret_token_value";
    const adapter = telegramAdapterFor(fake, { token });
    const error = await adapter.start(async () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toContain("TELEGRAM_BOT_TOKEN");
    expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(token);
  });

  it("an unreachable API fails start() with NetworkError naming the API root, without the token", async () => {
    const fake = await startFakeTelegram();
    const apiRoot = fake.apiRoot;
    await fake.close();
    const adapter = telegramAdapterFor(fake, { apiRoot, callTimeoutSeconds: 1 });
    const error = await adapter.start(async () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain(apiRoot);
    expect(`${(error as Error).message}\n${(error as Error).stack}\n${String((error as Error).cause)}`).not.toContain(fake.token);
  });

  it("renders every outbound message as HTML Telegram accepts", async () => {
    const { fake, adapter } = await setup();
    const samples = ["**a _b** c_", "_x_ **y** `z` snake_case __init__", "a < b && c > d", "`unclosed", "**", "__", "<a href='x'>", "&amp; &lt;"];
    for (const text of samples) await adapter.send(aliceAddress, { kind: "notice", text, links: [{ url: "https://e.com/?a=1&b=<2>", title: "A & <B>" }] });
    for (const call of fake.callsOf("sendMessage")) expect(parseTelegramHtml(String(call.params.text)).ok).toBe(true);
    expect(fake.violations).toEqual([]);
  });
});
