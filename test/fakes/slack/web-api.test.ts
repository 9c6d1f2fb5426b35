import { webApi } from "@slack/bolt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "./server.ts";

// The fake's Web API answers as Slack does: errors, storage, paging, triggers, failures, limits.

let fake: FakeSlack;
beforeEach(async () => {
  fake = await startFakeSlack();
});
afterEach(() => fake.close());

type Answer = { status: number; headers: Headers; body: Record<string, unknown> };
async function call(method: string, params: Record<string, unknown> = {}, options: { token?: string | null; json?: boolean } = {}): Promise<Answer> {
  const token = options.token === undefined ? fake.botToken : options.token;
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const form = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const init = options.json ? { headers: { ...headers, "Content-Type": "application/json; charset=utf-8" }, body: JSON.stringify(params) } : { headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" }, body: form.toString() };
  const res = await fetch(`${fake.apiUrl}${method}`, { method: "POST", ...init });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const post = async (text: string, extra: Record<string, unknown> = {}) => String((await call("chat.postMessage", { channel: "C1", text, ...extra })).body.ts);

describe("fake Slack Web API", () => {
  it("answers auth errors with HTTP 200 as Slack does", async () => {
    expect((await call("auth.test", {}, { token: null })).body).toEqual({ ok: false, error: "not_authed" });
    expect((await call("auth.test", {}, { token: "xoxb-wrong" })).body).toEqual({ ok: false, error: "invalid_auth" });
    expect((await call("chat.postMessage", { channel: "C1", text: "x" }, { token: fake.appToken })).body.error).toBe("not_allowed_token_type");
    expect((await call("apps.connections.open")).body.error).toBe("not_allowed_token_type");
    expect((await call("apps.connections.open", {}, { token: fake.appToken })).body.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?ticket=/);
    // A JSON body must carry the token in the header.
    expect((await call("auth.test", { token: fake.botToken }, { token: null, json: true })).body.error).toBe("not_authed");
    fake.revoke();
    const revoked = await call("auth.test");
    expect([revoked.status, revoked.body.error]).toEqual([200, "account_inactive"]);
    expect(fake.violations).toEqual([]);
  });

  it("flags unknown methods, unknown parameters, invalid blocks, over-long text", async () => {
    expect((await call("chat.postMesage", { channel: "C1", text: "x" })).body.error).toBe("unknown_method");
    expect((await call("files.upload", { channels: "C1" })).body.error).toBe("unknown_method");
    expect((await call("chat.postMessage", { channel: "C1", text: "x", colour: "red" })).body.ok).toBe(true);
    expect((await call("chat.postMessage", { text: "x" })).body).toEqual({ ok: false, error: "invalid_arguments", response_metadata: { messages: ['[ERROR] chat.postMessage: required parameter "channel" is missing'] } });
    const invalid = await call("chat.postMessage", { channel: "C1", text: "x", blocks: [{ type: "section", text: { type: "mrkdwn", text: "y".repeat(3001) } }] }, { json: true });
    expect(invalid.body).toMatchObject({ ok: false, error: "invalid_blocks" });
    const long = await call("chat.postMessage", { channel: "C1", text: "z".repeat(40_001) });
    expect(fake.message("C1", String(long.body.ts))?.text).toHaveLength(40_000);
    expect(fake.violations).toEqual([
      "chat.postMesage: no such Web API method",
      "files.upload: known to Slack but not served by the fake (teach test/fakes/slack the method if chatflow needs it)",
      'chat.postMessage: unknown parameter "colour"',
      'chat.postMessage: required parameter "channel" is missing',
      "chat.postMessage.blocks[0].text.text: 3001 characters, over 3000",
      "chat.postMessage.text: 40001 characters, over 40000 (Slack truncates it)",
    ]);
    await call("chat.postMessage", { channel: "C1", blocks: [{ type: "divider" }] });
    expect(fake.warnings).toEqual(["chat.postMessage: blocks without a top-level text (the fallback for notifications and screen readers)"]);
  });

  it("stores, edits and threads messages; refuses channels the bot can't use", async () => {
    const parent = await post("parent", { blocks: [{ type: "section", text: { type: "mrkdwn", text: "p" } }], metadata: { event_type: "task", event_payload: { id: 7 } } });
    await post("reply", { thread_ts: parent });
    expect((await call("chat.update", { channel: "C1", ts: parent, text: "edited" })).body.ok).toBe(true);
    expect(fake.message("C1", parent)).toMatchObject({ text: "edited", edits: 1, threadTs: parent, metadata: { event_type: "task" } });
    expect(fake.message("C1", parent)?.blocks).toHaveLength(1);
    expect((await call("chat.update", { channel: "C1", ts: "1.000001", text: "x" })).body.error).toBe("message_not_found");
    fake.notInChannel.add("C2");
    fake.archived.add("C3");
    fake.missing.add("C4");
    const errors = await Promise.all(["C2", "C3", "C4"].map(async (channel) => (await call("chat.postMessage", { channel, text: "x" })).body.error));
    expect(errors).toEqual(["not_in_channel", "is_archived", "channel_not_found"]);
  });

  it("posts to a person's DM when given their user id, as conversations.open names it", async () => {
    expect((await call("conversations.open", { users: "U0ALICE" })).body).toEqual({ ok: true, channel: { id: "D0ALICE" } });
    const posted = await call("chat.postMessage", { channel: "U0ALICE", text: "hi" });
    expect(posted.body.channel).toBe("D0ALICE");
    expect(fake.botMessages("D0ALICE").map((m) => m.text)).toEqual(["hi"]);
  });

  it("pages conversations.history newest first and conversations.replies with the parent on every page", async () => {
    const ts = [] as string[];
    for (const text of ["a", "b", "c", "d", "e"]) ts.push(await post(text, { metadata: { event_type: "n", event_payload: { text } } }));
    const first = await call("conversations.history", { channel: "C1", limit: "2", include_all_metadata: "true" });
    expect((first.body.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(["e", "d"]);
    expect((first.body.messages as Array<{ metadata?: unknown }>)[0]?.metadata).toEqual({ event_type: "n", event_payload: { text: "e" } });
    const cursor = (first.body.response_metadata as { next_cursor: string }).next_cursor;
    const second = await call("conversations.history", { channel: "C1", limit: "2", cursor });
    expect((second.body.messages as Array<{ text: string; metadata?: unknown }>).map((m) => [m.text, m.metadata])).toEqual([["c", undefined], ["b", undefined]]);
    expect(((await call("conversations.history", { channel: "C1", oldest: ts[2]!, inclusive: "true" })).body.messages as unknown[]).length).toBe(3);
    for (const text of ["r1", "r2", "r3"]) await post(text, { thread_ts: ts[0]! });
    const page1 = await call("conversations.replies", { channel: "C1", ts: ts[0]!, limit: "3" });
    const next = (page1.body.response_metadata as { next_cursor: string }).next_cursor;
    const page2 = await call("conversations.replies", { channel: "C1", ts: ts[0]!, limit: "3", cursor: next });
    expect([page1, page2].map((p) => (p.body.messages as Array<{ text: string }>).map((m) => m.text))).toEqual([["a", "r1", "r2"], ["a", "r3"]]);
    expect(page2.body.has_more).toBe(false);
    expect(fake.violations).toEqual([]);
  });

  it("opens a modal only with a fresh, unused trigger_id", async () => {
    const view = { type: "modal", title: { type: "plain_text", text: "T" }, blocks: [] };
    const { triggerId } = fake.slashCommand({ command: "/x", user: "U1", channel: "C1" });
    expect((await call("views.open", { trigger_id: "123.456.bogus", view })).body.error).toBe("invalid_trigger_id");
    const opened = await call("views.open", { trigger_id: triggerId, view });
    expect(opened.body.view).toMatchObject({ type: "modal", id: expect.stringMatching(/^V/), state: { values: {} } });
    expect((await call("views.open", { trigger_id: triggerId, view })).body.error).toBe("expired_trigger_id");
    const viewId = String((opened.body.view as { id: string }).id);
    expect((await call("views.update", { view_id: viewId, view: { ...view, title: { type: "plain_text", text: "U" } } })).body.ok).toBe(true);
    expect(fake.views.get(viewId)).toMatchObject({ updates: 1, user: "U1", open: true });
    expect(fake.violations).toEqual(["views.open: invalid_trigger_id (a trigger_id works once, within 3000 ms of the interaction)", "views.open: expired_trigger_id (a trigger_id works once, within 3000 ms of the interaction)"]);
  });

  it("injects failures: 429 with Retry-After, 5xx, dropped connections, Slack errors, for a time", async () => {
    fake.fail({ method: "chat.postMessage", kind: "ratelimited", retryAfter: 7 });
    fake.fail({ method: "chat.postMessage", kind: "server_error", status: 503 });
    fake.fail({ method: "chat.postMessage", kind: "channel_not_found" });
    const limited = await call("chat.postMessage", { channel: "C1", text: "x" });
    expect([limited.status, limited.headers.get("retry-after"), limited.body.error]).toEqual([429, "7", "ratelimited"]);
    expect((await call("chat.postMessage", { channel: "C1", text: "x" })).status).toBe(503);
    expect((await call("chat.postMessage", { channel: "C1", text: "x" })).body).toEqual({ ok: false, error: "channel_not_found" });
    expect((await call("chat.postMessage", { channel: "C1", text: "x" })).body.ok).toBe(true);
    fake.fail({ method: "*", kind: "drop", forMs: 60_000 });
    await expect(call("auth.test")).rejects.toThrow();
    expect(fake.calls.at(-1)).toMatchObject({ method: "auth.test", status: 0, injected: "drop" });
  });

  it("limits chat.update per minute when asked, with Retry-After until the window frees", async () => {
    fake.rateLimit("chat.update", { perMinute: 3 });
    const ts = await post("x");
    const statuses = [] as number[];
    for (let i = 0; i < 4; i++) statuses.push((await call("chat.update", { channel: "C1", ts, text: `v${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const last = fake.callsOf("chat.update", { all: true }).at(-1)!;
    expect(last.injected).toBe("tier_limit");
    expect(fake.message("C1", ts)?.edits).toBe(3);
  });

  it("serves response_urls five times, replacing the pressed message when asked", async () => {
    const ts = await post("Approve?", { blocks: [{ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Yes" }, action_id: "yes" }] }] });
    const { responseUrl } = fake.press({ channel: "C1", ts, user: "U1", actionId: "yes" });
    const respond = async (body: unknown) => (await fetch(responseUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })).status;
    expect(await respond({ replace_original: true, text: "Approved by <@U1>" })).toBe(200);
    expect(fake.message("C1", ts)).toMatchObject({ text: "Approved by <@U1>", edits: 1 });
    expect(fake.message("C1", ts)?.blocks).toBeUndefined();
    for (let i = 0; i < 4; i++) expect(await respond({ text: `note ${i}` })).toBe(200);
    expect(await respond({ text: "sixth" })).toBe(404);
    expect(fake.ephemerals("U1")).toHaveLength(4);
    expect(fake.violations).toEqual([`response_url ${responseUrl.split("/").at(-1)}: used more than 5 times`]);
  });

  it("a slash command's response_url: ephemeral (the default) shows to its typist alone, in_channel to everyone; another response_type is a violation", async () => {
    const { responseUrl } = fake.slashCommand({ command: "/deploy", text: "", user: "U1", channel: "C1" });
    const respond = async (body: unknown) => (await fetch(responseUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })).status;
    expect(await respond({ response_type: "ephemeral", text: "only you" })).toBe(200);
    expect(await respond({ text: "only you, by default" })).toBe(200);
    expect(fake.ephemerals("U1", "C1").map((e) => e.text)).toEqual(["only you", "only you, by default"]);
    expect(fake.messages("C1")).toEqual([]);
    expect(await respond({ response_type: "in_channel", text: "everyone" })).toBe(200);
    expect(fake.messages("C1").map((m) => m.text)).toEqual(["everyone"]);
    expect(fake.violations).toEqual([]);
    await respond({ response_type: "private", text: "?" });
    expect(fake.violations).toEqual([`response_url ${responseUrl.split("/").at(-1)}: response_type "private" (Slack takes "ephemeral" or "in_channel")`]);
  });

  it("streams with WebClient's chatStream and records assistant statuses", async () => {
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    const parent = await post("question");
    await client.assistant.threads.setStatus({ channel_id: "C1", thread_ts: parent, status: "is thinking…" });
    const streamer = client.chatStream({ channel: "C1", thread_ts: parent, recipient_team_id: fake.team.id, recipient_user_id: "U1", buffer_size: 5 });
    await streamer.append({ markdown_text: "Hello " });
    await streamer.append({ markdown_text: "world" });
    await streamer.stop({ markdown_text: "!" });
    const [reply] = fake.botMessages("C1", { threadTs: parent }).slice(1);
    expect(reply).toMatchObject({ text: "Hello world!", stream: "stopped" });
    expect(fake.calls.map((c) => c.method).filter((m) => m.startsWith("chat.") && m.endsWith("Stream"))).toEqual(["chat.startStream", "chat.appendStream", "chat.stopStream"]);
    expect(fake.statuses).toMatchObject([{ channel: "C1", threadTs: parent, status: "is thinking…" }]);
    expect(fake.violations).toEqual([]);
  });
});
