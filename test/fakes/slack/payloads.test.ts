import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "./server.ts";

// What the fake delivers has every key of real payloads of the same kind (./payloads, from
// slackapi/bolt-python's tests), apart from Enterprise Grid fields and the deprecated authed_users.

const IGNORED = new Set(["enterprise_id", "enterprise_name", "authed_users"]);
const example = (name: string) => JSON.parse(readFileSync(new URL(`./payloads/${name}`, import.meta.url), "utf8")) as Record<string, unknown>;

/** Paths of keys `expected` has (recursively in objects, the first item of arrays) that `actual` lacks. */
function missingKeys(expected: unknown, actual: unknown, path = ""): string[] {
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length > 0 && actual.length > 0 ? missingKeys(expected[0], actual[0], `${path}[0]`) : [];
  if (expected === null || typeof expected !== "object") return [];
  if (actual === null || typeof actual !== "object") return [`${path} (not an object)`];
  return Object.entries(expected).flatMap(([key, value]) => {
    if (IGNORED.has(key)) return [];
    if (!(key in actual)) return [`${path}.${key}`];
    // Blocks are the sender's own; their keys differ by block kind.
    return key === "blocks" ? [] : missingKeys(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
  });
}

describe("the fake's payloads have the keys of real ones", () => {
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await startFakeSlack();
  });
  afterAll(() => fake.close());
  // No app is connected: envelopes wait in fake.envelopes, unsent.
  const payloadOf = (envelopeId: string) => fake.envelopes.find((e) => e.envelope_id === envelopeId)!.payload;

  it("message and app_mention events (same ts, same client_msg_id)", () => {
    const { ts, envelopeIds } = fake.mention({ channel: "C0GENERAL", user: "U0ALICE", text: "hi" });
    const [message, mention] = envelopeIds.map(payloadOf) as Array<{ event: Record<string, unknown> }>;
    expect(missingKeys(example("message_event_callback.bolt-python.json"), message)).toEqual([]);
    expect(missingKeys(example("app_mention_event_callback.bolt-python.json"), mention)).toEqual([]);
    expect(message!.event).toMatchObject({ type: "message", ts, event_ts: ts, channel_type: "channel", text: `<@${fake.bot.userId}> hi` });
    expect(mention!.event).toMatchObject({ type: "app_mention", ts, client_msg_id: message!.event.client_msg_id });
    expect(mention!.event).not.toHaveProperty("channel_type");
  });

  it("a slash command's fields", () => {
    const { envelopeId } = fake.slashCommand({ command: "/deploy", text: "now", user: "U0ALICE", channel: "C0GENERAL" });
    expect(missingKeys(example("slash_command.bolt-python.json"), payloadOf(envelopeId))).toEqual([]);
    expect(fake.envelopes.find((e) => e.envelope_id === envelopeId)).toMatchObject({ type: "slash_commands", accepts_response_payload: true });
  });

  it("block_actions on an ephemeral message (no `message`, container.is_ephemeral)", async () => {
    const blocks = [{ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "OK" }, action_id: "ok", value: "1" }] }];
    const res = await fetch(`${fake.apiUrl}chat.postEphemeral`, { method: "POST", headers: { Authorization: `Bearer ${fake.botToken}`, "Content-Type": "application/json; charset=utf-8" }, body: JSON.stringify({ channel: "C0GENERAL", user: "U0ALICE", text: "ok?", blocks }) });
    const { message_ts: ts } = (await res.json()) as { message_ts: string };
    const { envelopeId } = fake.press({ channel: "C0GENERAL", ts, user: "U0ALICE", label: "OK" });
    const payload = payloadOf(envelopeId) as Record<string, unknown>;
    expect(missingKeys(example("block_actions.bolt-python.json"), payload)).toEqual([]);
    expect(payload).not.toHaveProperty("message");
    expect(payload.container).toMatchObject({ type: "message", message_ts: ts, channel_id: "C0GENERAL", is_ephemeral: true });
    // Slack fills in a block_id the sender left out.
    expect((payload.actions as Array<Record<string, unknown>>)[0]).toMatchObject({ action_id: "ok", value: "1", type: "button", block_id: expect.any(String) });
    expect(fake.violations).toEqual([]);
  });

  it("edits, deletions, joins and bot messages carry the subtypes and ids ignore rules look at", () => {
    const { ts } = fake.userMessage({ channel: "C0GENERAL", user: "U0BOB", text: "typo" });
    const event = (delivered: { envelopeIds: string[] }) => (payloadOf(delivered.envelopeIds[0]!) as { event: Record<string, unknown> }).event;
    expect(event(fake.editMessage({ channel: "C0GENERAL", ts, text: "fixed" }))).toMatchObject({ subtype: "message_changed", hidden: true, message: { ts, text: "fixed", edited: { user: "U0BOB" } }, previous_message: { ts, text: "typo" } });
    expect(fake.message("C0GENERAL", ts)).toMatchObject({ text: "fixed", edits: 1 });
    expect(event(fake.deleteMessage({ channel: "C0GENERAL", ts }))).toMatchObject({ subtype: "message_deleted", hidden: true, deleted_ts: ts });
    expect(event(fake.channelJoin({ channel: "C0GENERAL", user: "U0CAROL" }))).toMatchObject({ subtype: "channel_join", user: "U0CAROL" });
    expect(event(fake.botMessage({ channel: "C0GENERAL", text: "beep" }))).toMatchObject({ subtype: "bot_message", bot_id: "B0OTHERBOT" });
    const own = event(fake.botMessage({ channel: "C0GENERAL", text: "mine", own: true }));
    expect(own).toMatchObject({ type: "message", bot_id: fake.bot.botId, user: fake.bot.userId, app_id: fake.bot.appId });
    expect(own).not.toHaveProperty("subtype");
  });
});
