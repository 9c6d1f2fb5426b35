import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startFakeDiscord, type FakeDiscord } from "./server.ts";

// The REST side on the wire (plain fetch): auth, errors, headers, storage, interactions' windows, failures.

let fake: FakeDiscord;
beforeAll(async () => {
  fake = await startFakeDiscord();
});
afterAll(() => fake.close());

async function call(method: string, path: string, body?: unknown, options: { auth?: string | null; contentType?: string } = {}) {
  const headers: Record<string, string> = {};
  const auth = options.auth === undefined ? `Bot ${fake.token}` : options.auth;
  if (auth !== null) headers.Authorization = auth;
  if (body !== undefined) headers["Content-Type"] = options.contentType ?? "application/json";
  const res = await fetch(`${fake.apiUrl}/v10${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : (JSON.parse(text) as Record<string, any>) };
}
const messages = () => `/channels/${fake.channel.id}/messages`;

describe("auth, routes, errors", () => {
  it("wants `Bot <token>` on bot routes: 401 {message, code: 0} otherwise", async () => {
    expect((await call("GET", "/users/@me")).body).toMatchObject({ id: fake.bot.id, bot: true, username: "chatflow" });
    for (const auth of [null, `Bearer ${fake.token}`, "Bot wrong"]) expect(await call("GET", "/users/@me", undefined, { auth })).toMatchObject({ status: 401, body: { message: "401: Unauthorized", code: 0 } });
    expect((await call("GET", "/gateway/bot")).body).toEqual({ url: fake.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 14_400_000, max_concurrency: 1 } });
  });

  it("answers 404 to routes it doesn't serve and records them", async () => {
    expect(await call("GET", "/guilds/1/members")).toMatchObject({ status: 404, body: { code: 0 } });
    expect(fake.violations.splice(0)).toEqual(["GET /api/v10/guilds/1/members: a Discord route the fake doesn't serve"]);
  });

  it("refuses an invalid body with 400 50035 and Discord's nested errors", async () => {
    const res = await call("POST", messages(), { content: "x".repeat(2001), components: [{ type: 1, components: [{ type: 2, style: 1, label: "a", custom_id: "x".repeat(101) }] }] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      message: "Invalid Form Body", code: 50035,
      errors: {
        content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." }] },
        components: { "0": { components: { "0": { custom_id: { _errors: [{ code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 100 in length." }] } } } } },
      },
    });
    expect(fake.violations.splice(0)).toEqual([
      "POST /channels/:channel/messages: components[0].components[0].custom_id: Must be between 1 and 100 in length.",
      "POST /channels/:channel/messages: content: Must be 2000 or fewer in length.",
    ]);
    expect(await call("POST", messages(), {})).toMatchObject({ status: 400, body: { code: 50006, message: "Cannot send an empty message" } });
    expect(await call("POST", messages(), "{nope")).toMatchObject({ status: 400, body: { code: 50109 } });
    fake.violations.splice(0);
  });

  it("answers 10003, 50001, 50013, 50007, 10008 and 50005 as Discord does", async () => {
    expect(await call("POST", "/channels/1300000000000000404/messages", { content: "x" })).toMatchObject({ status: 404, body: { code: 10003, message: "Unknown Channel" } });
    const hidden = fake.addChannel("hidden");
    fake.missingAccess.add(hidden.id);
    expect(await call("GET", `/channels/${hidden.id}/messages`)).toMatchObject({ status: 403, body: { code: 50001, message: "Missing Access" } });
    fake.missingPermissions.add(fake.channel.id);
    expect(await call("POST", messages(), { content: "x" })).toMatchObject({ status: 403, body: { code: 50013, message: "Missing Permissions" } });
    fake.missingPermissions.clear();
    const dm = await call("POST", "/users/@me/channels", { recipient_id: fake.bob.id });
    expect(dm.body).toMatchObject({ id: fake.dmChannel(fake.bob.id).id, type: 1, recipients: [{ id: fake.bob.id }] });
    fake.dmsClosed.add(fake.bob.id);
    expect(await call("POST", `/channels/${dm.body!.id}/messages`, { content: "hi" })).toMatchObject({ status: 403, body: { code: 50007 } });
    fake.dmsClosed.clear();
    expect(await call("GET", `${messages()}/1300000000000000404`)).toMatchObject({ status: 404, body: { code: 10008, message: "Unknown Message" } });
    const theirs = fake.userMessage({ user: fake.alice.id, content: "mine" });
    expect(await call("PATCH", `${messages()}/${theirs.messageId}`, { content: "edited" })).toMatchObject({ status: 403, body: { code: 50005 } });
    expect(fake.violations).toEqual([]);
  });
});

describe("messages", () => {
  it("stores, edits, pages newest first, and returns the first message for an enforced nonce", async () => {
    const channel = fake.addChannel("paging");
    const path = `/channels/${channel.id}/messages`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await call("POST", path, { content: `m${i}`, nonce: `n${i}`, enforce_nonce: true })).body!.id);
    const again = await call("POST", path, { content: "m0 again", nonce: "n0", enforce_nonce: true });
    expect(again.body!.id).toBe(ids[0]);
    expect((await call("POST", path, { content: "no enforce", nonce: "n0" })).body!.id).not.toBe(ids[0]);
    const edited = await call("PATCH", `${path}/${ids[1]}`, { content: "m1 edited" });
    expect(edited.body).toMatchObject({ id: ids[1], content: "m1 edited", edited_timestamp: expect.any(String) });
    expect(fake.message(ids[1]!)).toMatchObject({ edits: 1, content: "m1 edited", author: { id: fake.bot.id } });
    expect((await call("GET", `${path}?limit=2`)).body!.map((m: { content: string }) => m.content)).toEqual(["no enforce", "m4"]);
    expect((await call("GET", `${path}?before=${ids[2]}`)).body!.map((m: { id: string }) => m.id)).toEqual([ids[1], ids[0]]);
    expect((await call("GET", `${path}?after=${ids[2]}&limit=1`)).body!.map((m: { id: string }) => m.id)).toEqual([ids[3]]);
    expect(fake.messages(channel.id).map((m) => m.content)).toEqual(["m0", "m1 edited", "m2", "m3", "m4", "no enforce"]);
    expect(fake.violations).toEqual([]);
  });

  it("carries bucket headers on every answer; 204 without a Content-Type", async () => {
    const res = await call("POST", `/channels/${fake.channel.id}/typing`);
    expect(res.status).toBe(204);
    expect(res.headers.get("content-type")).toBeNull();
    for (const name of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-reset-after", "x-ratelimit-bucket"]) expect(res.headers.get(name)).not.toBeNull();
  });
});

describe("rate limits and failure rules", () => {
  it("enforces a route's limit per channel with 429 {retry_after, global} and Retry-After", async () => {
    const channel = fake.addChannel("limited");
    fake.rateLimit("POST /channels/:channel/messages", { limit: 2, perMs: 60_000 });
    const path = `/channels/${channel.id}/messages`;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call("POST", path, { content: `x${i}` }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[1]!.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(answers[2]!.body).toEqual({ message: "You are being rate limited.", retry_after: expect.any(Number), global: false });
    expect(Number(answers[2]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(59);
    expect((await call("POST", messages(), { content: "another channel" })).status).toBe(200);
    fake.rateLimit("POST /channels/:channel/messages", undefined);
    expect(fake.rateLimitedCalls).toHaveLength(1);
  });

  it("takes only route names it serves (a typo would be a silent no-op)", () => {
    expect(() => fake.rateLimit("PATCH /webhooks/:app/:token/messages/:id", { limit: 1, perMs: 1000 })).toThrow(/serves no route "PATCH \/webhooks\/:app\/:token\/messages\/:id"/);
    expect(() => fake.fail({ route: "POST /channels/:id/messages", kind: "ratelimited" })).toThrow(/serves no route/);
    expect(() => fake.callsOf("POST /channel/:channel/messages")).toThrow(/serves no route/);
  });

  it("fails calls by rule: a Discord code, a 5xx, a dropped connection", async () => {
    fake.fail({ route: "GET /users/@me", kind: 50013, times: 1 });
    fake.fail({ route: "GET /users/@me", kind: "server_error", status: 502, times: 1 });
    fake.fail({ route: "GET /users/@me", kind: "drop", times: 1 });
    expect(await call("GET", "/users/@me")).toMatchObject({ status: 403, body: { code: 50013 } });
    const html = await fetch(`${fake.apiUrl}/v10/users/@me`, { headers: { Authorization: `Bot ${fake.token}` } });
    expect([html.status, html.headers.get("content-type")]).toEqual([502, "text/html"]);
    await expect(call("GET", "/users/@me")).rejects.toThrow();
    expect((await call("GET", "/users/@me")).status).toBe(200);
    expect(fake.callsOf("GET /users/@me", { all: true }).slice(-4).map((c) => [c.status, c.injected])).toEqual([[403, "50013"], [502, "server_error"], [0, "drop"], [200, undefined]]);
  });
});

describe("interactions and the gateway on the wire (a bare WebSocket client)", () => {
  let ws: WebSocket;
  const frames: Array<{ op: number; t?: string; s?: number; d: any }> = [];
  const open = (path: string, first: object) => {
    const socket = new WebSocket(`${fake.gatewayUrl}${path}?v=10&encoding=json`);
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data));
      frames.push(frame);
      if (frame.op === 10) socket.send(JSON.stringify(first));
    });
    return socket;
  };
  beforeAll(async () => {
    ws = open("/", { op: 2, d: { token: fake.token, intents: 1 | (1 << 12), properties: { os: "linux", browser: "test", device: "test" } } });
    await fake.waitUntil(() => frames.some((f) => f.t === "GUILD_CREATE"), 5000, "GUILD_CREATE on the bare socket");
  });
  afterAll(() => ws.close());
  const original = (token: string) => `/webhooks/${fake.application.id}/${token}/messages/%40original`;

  it("READY, then GUILD_CREATE for the guild, with the intents recorded", () => {
    expect(frames.map((f) => f.t ?? `op ${f.op}`).slice(0, 3)).toEqual(["op 10", "READY", "GUILD_CREATE"]);
    expect(frames[1]!.d).toMatchObject({ v: 10, user: { id: fake.bot.id, bot: true }, guilds: [{ id: fake.guild.id, unavailable: true }], application: { id: fake.application.id }, resume_gateway_url: `${fake.gatewayUrl}/resume` });
    expect(frames[2]!.d).toMatchObject({ id: fake.guild.id, channels: expect.arrayContaining([expect.objectContaining({ id: fake.channel.id, name: "general" })]) });
    expect(fake.intents).toBe(1 | (1 << 12));
  });

  it("one callback within the deadline (a second is 40060); @original and follow-ups until the token expires", async () => {
    const { interactionId, token } = fake.slashCommand({ name: "deploy", user: fake.alice.id, unregistered: true });
    const callback = `/interactions/${interactionId}/${token}/callback`;
    const deferred = await call("POST", `${callback}?with_response=true`, { type: 5 }, { auth: null });
    expect(deferred.body).toMatchObject({ interaction: { id: interactionId, type: 2, response_message_loading: true, response_message_ephemeral: false } });
    expect((await call("POST", `${callback}?with_response=false`, { type: 4, data: { content: "again" } }, { auth: null })).body).toMatchObject({ code: 40060 });
    expect((await call("PATCH", original(token), { content: "Done." }, { auth: null })).body).toMatchObject({ content: "Done.", flags: 0, webhook_id: fake.application.id, interaction_metadata: { id: interactionId } });
    const followup = await call("POST", `/webhooks/${fake.application.id}/${token}?wait=true`, { content: "psst", flags: 64 }, { auth: null });
    expect(followup.body).toMatchObject({ content: "psst", flags: 64 });
    expect(fake.ephemerals(fake.alice.id).map((m) => m.content)).toContain("psst");
    expect(fake.messages(fake.channel.id).map((m) => m.content)).not.toContain("psst");
    expect(fake.callbacks(interactionId).map((c) => [c.type, c.status, c.code])).toEqual([[5, 200, undefined], [4, 400, 40060]]);
    fake.options.interactionDeadlineMs = 0;
    expect(fake.failedInteractions.map((i) => i.id)).not.toContain(interactionId);
    fake.options.interactionDeadlineMs = 3000;
    fake.options.tokenLifetimeMs = 0;
    expect(await call("PATCH", original(token), { content: "late" }, { auth: null })).toMatchObject({ status: 401, body: { code: 50027, message: "Invalid Webhook Token" } });
    fake.options.tokenLifetimeMs = 15 * 60_000;
    expect(await call("GET", `/webhooks/1300000000000000404/${token}/messages/%40original`, undefined, { auth: null })).toMatchObject({ status: 404, body: { code: 10015 } });
    expect(fake.violations.splice(0)).toEqual([`interaction ${interactionId}: a second callback (type 4) after type 5 → 40060`]);
  });

  it("a callback after the deadline is 10062 Unknown interaction; a follow-up before any answer is refused", async () => {
    fake.options.interactionDeadlineMs = 0;
    const late = fake.slashCommand({ name: "deploy", user: fake.alice.id, unregistered: true });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await call("POST", `/interactions/${late.interactionId}/${late.token}/callback`, { type: 5 }, { auth: null })).toMatchObject({ status: 404, body: { code: 10062, message: "Unknown interaction" } });
    // The person sees "This interaction failed".
    expect(fake.failedInteractions.map((i) => i.id)).toContain(late.interactionId);
    fake.options.interactionDeadlineMs = 3000;
    expect((await call("POST", `/webhooks/${fake.application.id}/${late.token}?wait=true`, { content: "x" }, { auth: null })).body).toMatchObject({ code: 10015 });
    expect(fake.violations.splice(0).map((v) => v.replace(/\d+ ms after/, "N ms after"))).toEqual([
      `interaction ${late.interactionId}: callback type 5 N ms after the person acted (the deadline is 0 ms) → 10062`,
      `interaction ${late.interactionId}: a follow-up before the interaction was answered → 10015`,
    ]);
  });

  it("keeps dispatches while the client is away and replays them after its sequence on RESUME", async () => {
    const seq = Math.max(...frames.filter((f) => typeof f.s === "number").map((f) => f.s!));
    const session = frames.find((f) => f.t === "READY")!.d.session_id;
    fake.dropGateway();
    await fake.waitUntil(() => !fake.gatewayLive, 2000, "the drop");
    const missed = [fake.dispatch("TYPING_START", { a: 1 }), fake.dispatch("TYPING_START", { a: 2 })];
    frames.length = 0;
    ws = open("/resume", { op: 6, d: { token: fake.token, session_id: session, seq } });
    await fake.waitForGateway({ resumes: 1 });
    await fake.waitUntil(() => frames.some((f) => f.t === "RESUMED"), 2000, "RESUMED");
    expect(frames.filter((f) => f.op === 0).map((f) => [f.t, f.s])).toEqual([["TYPING_START", missed[0]], ["TYPING_START", missed[1]], ["RESUMED", missed[1]! + 1]]);
    expect(fake.connections.map((c) => [c.path, c.did])).toEqual([["/", "identify"], ["/resume", "resume"]]);
  });
});
