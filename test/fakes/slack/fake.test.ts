import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { App, LogLevel, webApi } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBlocks, checkView } from "./blocks.ts";
import { startFakeSlack, type FakeSlack } from "./server.ts";
import { SpecValidator } from "./spec.ts";

// The fake is only useful if it refuses what Slack refuses and real Bolt 5.1 runs against it.

const button = (text: string, actionId: string, value = "v") => ({ type: "button" as const, text: { type: "plain_text" as const, text }, action_id: actionId, value });
const section = (text: string) => ({ type: "section" as const, text: { type: "mrkdwn" as const, text } });

describe("validator", () => {
  const spec = new SpecValidator();

  it("passes a good chat.postMessage and flags unknown, missing and mistyped parameters", () => {
    const blocks = [section("*hi*"), { type: "actions", block_id: "b1", elements: [button("Approve", "approve"), button("Reject", "reject")] }];
    const good = spec.check("chat.postMessage", { channel: "C1", text: "hi", blocks: JSON.stringify(blocks), metadata: '{"event_type":"task","event_payload":{"id":1}}', unfurl_links: "false", team_id: "T1" });
    expect(good.problems).toEqual([]);
    expect(good.params.blocks).toEqual(blocks);
    expect(good.params.unfurl_links).toBe(false);
    expect(checkBlocks(good.params.blocks, "message")).toEqual([]);
    expect(spec.check("chat.postMessage", { channel: "C1", text: "x", colour: "red" }).problems).toEqual(['chat.postMessage: unknown parameter "colour"']);
    expect(spec.check("chat.postMessage", { text: "x" }).problems).toEqual(['chat.postMessage: required parameter "channel" is missing']);
    expect(spec.check("chat.postMessage", { channel: "C1", blocks: "[not json" }).problems).toEqual(["chat.postMessage.blocks: not valid JSON"]);
    expect(spec.check("conversations.history", { channel: "C1", limit: "ten" }).problems).toEqual(['conversations.history.limit: expected an integer, got the string "ten"']);
    // Hand-written tables for what the 2021 spec lacks.
    expect(spec.check("chat.startStream", { channel: "C1", thread_ts: "1.2", recipient_user_id: "U1", recipient_team_id: "T1" }).problems).toEqual([]);
    expect(spec.method("assistant.threads.setStatus")?.source).toBe("docs (hand-written)");
  });

  it("enforces Block Kit limits", () => {
    expect(checkBlocks(Array.from({ length: 51 }, () => section("x")), "message")).toEqual(["blocks: 51 blocks, over 50 per message"]);
    expect(checkBlocks(Array.from({ length: 51 }, () => section("x")), "view")).toEqual([]);
    expect(checkBlocks([section("x".repeat(3001))], "message")).toEqual(["blocks[0].text.text: 3001 characters, over 3000"]);
    expect(checkBlocks([{ type: "actions", elements: [button("A", "same"), button("B", "same")] }], "message")).toEqual(['blocks[0].elements[1].action_id: "same" is not unique in its block']);
    expect(checkBlocks([{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }], "message")).toEqual(["blocks[0].text.text: 151 characters, over 150"]);
    expect(checkBlocks([{ type: "actions", elements: [button("b".repeat(76), "a", "v".repeat(2001))] }], "message")).toEqual([
      "blocks[0].elements[0].text.text: 76 characters, over 75",
      "blocks[0].elements[0].value: 2001 characters, over 2000",
    ]);
    expect(checkBlocks([{ ...section("a"), block_id: "x" }, { ...section("b"), block_id: "x" }], "message")).toEqual(['blocks[1].block_id: "x" is not unique in the message']);
    expect(checkBlocks([{ type: "actions", elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`, `a${i}`)) }], "message")).toEqual(["blocks[0].elements: 26 elements, over 25"]);
    const input = { type: "input", block_id: "note", label: { type: "plain_text", text: "Note" }, element: { type: "plain_text_input", action_id: "text", max_length: 10, initial_value: "x".repeat(11) } };
    expect(checkView({ type: "modal", title: { type: "plain_text", text: "t".repeat(25) }, blocks: [input] })).toEqual([
      "view.title.text: 25 characters, over 24",
      "view.blocks[0].element.initial_value: 11 characters, over max_length 10",
      "view.submit: required when the view has input blocks",
    ]);
  });
});

describe("real Bolt 5.1 in Socket Mode against the fake", () => {
  let fake: FakeSlack;
  let app: App;
  const seen: Array<{ kind: string; ts?: string; text?: string; retry?: number }> = [];
  const modal = {
    type: "modal" as const,
    callback_id: "deploy_form",
    private_metadata: "task-42",
    title: { type: "plain_text" as const, text: "Deploy" },
    submit: { type: "plain_text" as const, text: "Go" },
    blocks: [{ type: "input" as const, block_id: "reason", label: { type: "plain_text" as const, text: "Why?" }, element: { type: "plain_text_input" as const, action_id: "text", max_length: 200 } }],
  };

  beforeAll(async () => {
    fake = await startFakeSlack();
    app = new App({ token: fake.botToken, appToken: fake.appToken, socketMode: true, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR });
    app.event("app_mention", async ({ event, say }) => {
      seen.push({ kind: "app_mention", ts: event.ts, text: event.text });
      await say({ text: "On it.", thread_ts: event.ts, blocks: [section("On it."), { type: "actions" as const, block_id: "choice", elements: [button("Approve", "approve", "task-42")] }] });
    });
    app.message(async ({ message }) => {
      seen.push({ kind: "message", ts: message.ts, text: "text" in message ? message.text : undefined });
    });
    app.command("/deploy", async ({ ack, respond, command }) => {
      await ack({ text: `Deploying ${command.text}…` });
      await respond({ text: "Deployed.", response_type: "in_channel" });
    });
    app.action("approve", async ({ ack, body, client }) => {
      await ack();
      seen.push({ kind: "press", text: "actions" in body ? String((body.actions[0] as { value?: string }).value) : "" });
      await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view: modal });
    });
    app.view("deploy_form", async ({ ack, view }) => {
      await ack();
      seen.push({ kind: "submit", text: `${view.private_metadata}: ${String(view.state.values.reason?.text?.value)}` });
    });
    await app.start();
    await fake.waitForConnection();
  });

  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it("connects: auth.test, then apps.connections.open with the app token, then hello", () => {
    expect(fake.callsOf("auth.test")[0]?.tokenKind).toBe("bot");
    expect(fake.callsOf("apps.connections.open")[0]?.tokenKind).toBe("app");
    expect(fake.connections).toBe(1);
  });

  it("delivers a mention as a message event and an app_mention event with the same ts; the reply lands in the thread", async () => {
    const { ts, eventIds, envelopeIds } = fake.mention({ channel: "C0GENERAL", user: "U0ALICE", text: "deploy please" });
    expect(eventIds).toHaveLength(2);
    expect(new Set(eventIds).size).toBe(2);
    await fake.waitUntil(() => seen.some((s) => s.kind === "message" && s.ts === ts) && seen.some((s) => s.kind === "app_mention" && s.ts === ts), 5000, "both events");
    await Promise.all(envelopeIds.map((id) => fake.waitForAck(id)));
    const reply = await fake.waitUntil(() => fake.botMessages("C0GENERAL", { threadTs: ts })[0], 5000, "the threaded reply");
    expect(reply).toMatchObject({ text: "On it.", threadTs: ts, edits: 0 });
    expect(fake.messages("C0GENERAL", { threadTs: ts }).map((m) => m.from)).toEqual(["user", "bot"]);
    expect(fake.violations).toEqual([]);
  });

  it("acks a slash command within the envelope (the ack's text shows to the person) and respond() posts to the response_url", async () => {
    const { envelopeId, responseUrl } = fake.slashCommand({ command: "/deploy", text: "v2", user: "U0ALICE", channel: "C0GENERAL" });
    expect(responseUrl).toMatch(new RegExp(`^${fake.origin}/response/`));
    const ack = await fake.waitForAck(envelopeId);
    expect(ack.payload).toEqual({ text: "Deploying v2…" });
    expect(ack.latencyMs).toBeLessThan(3000);
    await fake.waitUntil(() => fake.responses.some((r) => r.via !== "ack"), 5000, "respond()");
    expect(fake.ephemerals("U0ALICE").map((e) => e.text)).toEqual(["Deploying v2…"]);
    expect(fake.botMessages("C0GENERAL").some((m) => m.text === "Deployed.")).toBe(true);
    expect(fake.violations).toEqual([]);
  });

  it("delivers a button press; the handler opens a modal with the fresh trigger_id; a submission reaches app.view", async () => {
    const message = fake.botMessages("C0GENERAL").find((m) => m.blocks?.some((b) => b.type === "actions"));
    const press = fake.press({ channel: "C0GENERAL", ts: message!.ts, label: "Approve", user: "U0ALICE" });
    await fake.waitForAck(press.envelopeId);
    const [view] = await fake.waitUntil(() => (fake.views.size > 0 ? [...fake.views.values()] : undefined), 5000, "views.open");
    expect(fake.callsOf("views.open")[0]?.params.trigger_id).toBe(press.triggerId);
    expect(seen.find((s) => s.kind === "press")?.text).toBe("task-42");
    const submitted = fake.submitView({ viewId: view!.id, user: "U0ALICE", values: { reason: "release day" } });
    expect(submitted.values).toEqual({ reason: { text: { type: "plain_text_input", value: "release day" } } });
    await fake.waitForAck(submitted.envelopeId);
    await fake.waitUntil(() => seen.some((s) => s.kind === "submit"), 5000, "app.view");
    expect(seen.find((s) => s.kind === "submit")?.text).toBe("task-42: release day");
    expect(fake.views.get(view!.id)?.open).toBe(false);
    expect(fake.violations).toEqual([]);
  });

  it("survives a malformed frame, and WebClient waits out a 429's Retry-After", async () => {
    fake.sendRaw("{not json");
    fake.fail({ method: "chat.postMessage", kind: "ratelimited", retryAfter: 1 });
    const started = Date.now();
    const posted = await app.client.chat.postMessage({ channel: "C0GENERAL", text: "after the storm" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(posted.ts).toBeDefined();
    expect(fake.callsOf("chat.postMessage", { all: true }).slice(-2).map((c) => c.status)).toEqual([429, 200]);
  });

  it("reconnects after a dropped socket (Bolt waits about 5 s) and keeps receiving", async () => {
    fake.dropSockets();
    await fake.waitForConnection({ count: 2, timeoutMs: 20_000 });
    const { ts } = fake.userMessage({ channel: "D0ALICE", user: "U0ALICE", text: "still there?" });
    await fake.waitUntil(() => seen.some((s) => s.kind === "message" && s.ts === ts), 5000, "the DM after reconnecting");
    expect(fake.callsOf("apps.connections.open")).toHaveLength(2);
    expect(fake.violations).toEqual([]);
  });
});

describe("real Bolt 5.1 in HTTP mode against the fake's signed deliveries", () => {
  let fake: FakeSlack;
  let app: App;
  let url: string;
  const texts: string[] = [];

  beforeAll(async () => {
    fake = await startFakeSlack();
    app = new App({ token: fake.botToken, signingSecret: fake.signingSecret, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR });
    app.message(async ({ message }) => void texts.push("text" in message ? String(message.text) : ""));
    app.command("/deploy", async ({ ack }) => ack({ text: "ok" }));
    const server = (await app.start(0)) as Server;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });

  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it("answers 200 to a good signature, 401 to forged and stale ones", async () => {
    const body = { type: "event_callback", team_id: fake.team.id, api_app_id: fake.bot.appId, event: { type: "message", user: "U0BOB", text: "signed", ts: "1700000000.000100", channel: "C0GENERAL", event_ts: "1700000000.000100", channel_type: "channel" }, event_id: "Ev0SIGNED", event_time: 1700000000 };
    expect((await fake.postEvent(url, body, { signature: "good" })).status).toBe(200);
    expect((await fake.postEvent(url, body, { signature: "forged" })).status).toBe(401);
    expect((await fake.postEvent(url, body, { signature: "stale" })).status).toBe(401);
    await fake.waitUntil(() => texts.includes("signed"), 5000, "the signed event");
  });

  it("delivers people's actions over HTTP once told to: the answer is the ack", async () => {
    fake.deliverOverHttp(url);
    fake.userMessage({ channel: "C0GENERAL", user: "U0BOB", text: "over http" });
    const command = fake.slashCommand({ command: "/deploy", text: "x", user: "U0BOB", channel: "C0GENERAL" });
    const ack = await fake.waitForAck(command.envelopeId);
    expect(ack.payload).toMatchObject({ text: "ok" });
    await fake.waitUntil(() => texts.includes("over http"), 5000, "the message over HTTP");
    expect(fake.ephemerals("U0BOB").map((e) => e.text)).toEqual(["ok"]);
    expect(fake.violations).toEqual([]);
  });
});

describe("WebClient on its own", () => {
  it("is refused with invalid_auth for a wrong token", async () => {
    const fake = await startFakeSlack();
    try {
      const client = new webApi.WebClient("xoxb-wrong", { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
      await expect(client.auth.test()).rejects.toMatchObject({ data: { ok: false, error: "invalid_auth" } });
    } finally {
      await fake.close();
    }
  });
});
