import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startFakeDiscord, type FakeDiscord } from "./server.ts";

// What the fake dispatches has every key of Discord's documented examples of the same kind (./payloads),
// apart from `is_pending` (an old member field discord-api-types no longer has) and the author fields of
// a user (`public_flags` and the like are there; the docs' users are older snapshots).

const IGNORED = new Set(["is_pending"]);
const example = (name: string) => JSON.parse(readFileSync(new URL(`./payloads/${name}`, import.meta.url), "utf8")) as Record<string, unknown>;

/** Paths of keys `expected` has (recursively in objects, the first item of arrays) that `actual` lacks. */
function missingKeys(expected: unknown, actual: unknown, path = ""): string[] {
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length > 0 && actual.length > 0 ? missingKeys(expected[0], actual[0], `${path}[0]`) : [];
  if (expected === null || typeof expected !== "object") return [];
  if (actual === null || typeof actual !== "object") return [`${path} (not an object)`];
  return Object.entries(expected).flatMap(([key, value]) => {
    if (IGNORED.has(key)) return [];
    if (!(key in actual)) return [`${path}.${key}`];
    // Components are the app's own; their keys differ by kind.
    return key === "components" && path === ".message" ? [] : missingKeys(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
  });
}

describe("the fake's interactions have the keys of Discord's documented ones", () => {
  let fake: FakeDiscord;
  let ws: WebSocket;
  beforeAll(async () => {
    fake = await startFakeDiscord();
    ws = new WebSocket(`${fake.gatewayUrl}/?v=10&encoding=json`);
    ws.on("message", (data) => {
      if (JSON.parse(String(data)).op === 10) ws.send(JSON.stringify({ op: 2, d: { token: fake.token, intents: 1, properties: {} } }));
    });
    await fake.waitForGateway();
  });
  afterAll(async () => {
    ws.close();
    await fake.close();
  });
  const payload = (id: string) => fake.interaction(id)!.payload;

  it("a slash command (and it adds what discord.js needs: application_id, version, a channel object, entitlements)", () => {
    const { interactionId } = fake.slashCommand({ name: "cardsearch", user: fake.alice.id, options: { cardname: "The Gitrog Monster" }, unregistered: true });
    expect(missingKeys(example("interaction_slash_command.docs.json"), payload(interactionId))).toEqual([]);
    expect(payload(interactionId)).toMatchObject({ application_id: fake.application.id, version: 1, channel: { id: fake.channel.id, type: 0 }, entitlements: [], data: { options: [{ type: 3, name: "cardname", value: "The Gitrog Monster" }] } });
  });

  it("a button press carries the message as stored", async () => {
    const reply = await fetch(`${fake.apiUrl}/v10/channels/${fake.channel.id}/messages`, {
      method: "POST", headers: { Authorization: `Bot ${fake.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ content: "This is a message with components.", components: [{ type: 1, components: [{ type: 2, label: "Click me!", style: 1, custom_id: "click_one" }] }] }),
    });
    const message = (await reply.json()) as { id: string };
    const { interactionId } = fake.press({ messageId: message.id, label: "Click me!", user: fake.alice.id });
    expect(missingKeys(example("interaction_button.docs.json"), payload(interactionId))).toEqual([]);
    expect(payload(interactionId)).toMatchObject({ type: 3, data: { custom_id: "click_one", component_type: 2 }, message: { id: message.id, author: { id: fake.bot.id } } });
  });

  it("a modal submission (a legacy action row, as in the docs' example)", async () => {
    const { interactionId, token } = fake.slashCommand({ name: "cool", user: fake.alice.id, unregistered: true });
    const modal = { type: 9, data: { custom_id: "cool_modal", title: "My Cool Modal", components: [{ type: 1, components: [{ type: 4, custom_id: "name", label: "Name", style: 1 }] }] } };
    await fetch(`${fake.apiUrl}/v10/interactions/${interactionId}/${token}/callback`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(modal) });
    const submitted = fake.submitModal({ customId: "cool_modal", values: { name: "John" } });
    expect(missingKeys(example("interaction_modal_submit.docs.json"), payload(submitted.interactionId))).toEqual([]);
    expect(payload(submitted.interactionId).data).toEqual({ custom_id: "cool_modal", components: [{ type: 1, id: 1, components: [{ type: 4, id: 2, custom_id: "name", value: "John" }] }] });
    expect(fake.violations).toEqual([]);
  });

  it("a 429 has the documented body and headers", async () => {
    fake.fail({ route: "GET /users/@me", kind: "ratelimited", retryAfter: 64.57 });
    const res = await fetch(`${fake.apiUrl}/v10/users/@me`, { headers: { Authorization: `Bot ${fake.token}` } });
    const documented = example("rate_limit_429_user.docs.json") as { _headers: Record<string, string>; body: object };
    expect(Object.keys(await res.json())).toEqual(Object.keys(documented.body));
    for (const name of Object.keys(documented._headers)) expect(res.headers.get(name), name).not.toBeNull();
    expect(res.headers.get("retry-after")).toBe("65");
  });
});
