import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../src/model.ts";
import { startFakeTelegram } from "../fakes/telegram/server.ts";
import { ALICE, cleanupList, telegramAdapterFor } from "./telegram-setup.ts";

const cleanup = cleanupList();
afterEach(() => cleanup.run());

const SECRET = "s3cret_for-the-webhook";

/** A free port on 127.0.0.1 (the webhook URL must be known before the server starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function webhookBot() {
  const fake = await startFakeTelegram();
  cleanup.add(() => fake.close());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/tg`;
  const adapter = telegramAdapterFor(fake, { mode: "webhook", webhook: { host: "127.0.0.1", port, path: "/tg", url, secret: SECRET } });
  const events: InboundEvent[] = [];
  await adapter.start(async (event) => void events.push(event));
  cleanup.add(() => adapter.stop());
  const post = (body: string, headers: Record<string, string> = {}) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
  return { fake, adapter, events, url, post };
}

const update = (id: number, text: string) =>
  JSON.stringify({ update_id: id, message: { message_id: id, date: 0, chat: { id: ALICE, type: "private", first_name: "A" }, from: { id: ALICE, is_bot: false, first_name: "A" }, text } });

describe("telegram adapter: webhook mode", () => {
  it("registers the webhook with its secret and takes updates Telegram posts with it", async () => {
    const { fake, adapter, events, url } = await webhookBot();
    expect(adapter.webhookPort).toBe(Number(new URL(url).port));
    expect(fake.callsOf("setWebhook").at(-1)?.params).toEqual({ url, secret_token: SECRET, allowed_updates: ["message", "callback_query"], drop_pending_updates: false });
    fake.userMessage({ chatId: ALICE, text: "via webhook" });
    await fake.waitUntil(() => fake.webhookDeliveries.length === 1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "message", text: "via webhook" });
    expect(fake.webhookDeliveries.map((d) => d.status)).toEqual([200]);
    expect(fake.callsOf("getUpdates", { all: true })).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("a wrong or missing secret gets 401 and nothing is processed", async () => {
    const { events, post } = await webhookBot();
    const wrong = await post(update(1, "forged"), { "X-Telegram-Bot-Api-Secret-Token": "not-the-secret" });
    const missing = await post(update(2, "forged too"));
    expect([wrong.status, missing.status]).toEqual([401, 401]);
    const right = await post(update(3, "genuine"), { "X-Telegram-Bot-Api-Secret-Token": SECRET });
    expect(right.status).toBe(200);
    expect(events.map((e) => (e.kind === "message" ? e.text : e.kind))).toEqual(["genuine"]);
  });

  it("malformed bodies and updates are refused or ignored without a crash; other paths and methods are not served", async () => {
    const { events, post, url } = await webhookBot();
    const auth = { "X-Telegram-Bot-Api-Secret-Token": SECRET };
    expect((await post("{not json", auth)).status).toBe(400);
    expect((await post(JSON.stringify({ update_id: 9, message: { text: 1 } }), auth)).status).toBe(200);
    expect((await fetch(url)).status).toBe(405);
    expect((await fetch(url.replace("/tg", "/other"), { method: "POST", body: "{}" })).status).toBe(404);
    expect((await post(update(10, "still works"), auth)).status).toBe(200);
    expect(events.map((e) => (e.kind === "message" ? e.text : e.kind))).toEqual(["still works"]);
  });
});
