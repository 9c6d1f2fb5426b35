import { WebSocket } from "ws";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "./server.ts";

// The Socket Mode server seen from a bare client: hello, envelopes, acks, retries, refreshes.

let fake: FakeSlack;
let socket: WebSocket | undefined;
const frames: Array<Record<string, unknown>> = [];

beforeEach(async () => {
  fake = await startFakeSlack();
  frames.length = 0;
});
afterEach(async () => {
  socket?.terminate();
  await fake.close();
});

async function socketUrl(): Promise<string> {
  const res = await fetch(`${fake.apiUrl}apps.connections.open`, { method: "POST", headers: { Authorization: `Bearer ${fake.appToken}` } });
  return String(((await res.json()) as { url: string }).url);
}

async function connect(url?: string): Promise<WebSocket> {
  const ws = new WebSocket(url ?? (await socketUrl()));
  ws.on("message", (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  socket = ws;
  return ws;
}
const envelope = (envelopeId: string) => fake.waitUntil(() => frames.find((f) => f.envelope_id === envelopeId), 2000, `envelope ${envelopeId}`);

describe("fake Socket Mode server", () => {
  it("says hello, then delivers envelopes queued while no one was connected", async () => {
    const { envelopeIds } = fake.userMessage({ channel: "D0ALICE", user: "U0ALICE", text: "early" });
    await connect();
    await fake.waitUntil(() => frames.length >= 2, 2000, "hello and the queued envelope");
    expect(frames[0]).toEqual({ type: "hello", num_connections: 1, debug_info: expect.any(Object), connection_info: { app_id: fake.bot.appId } });
    expect(frames[1]).toMatchObject({ envelope_id: envelopeIds[0], type: "events_api", accepts_response_payload: false, retry_attempt: 0, retry_reason: "" });
    expect((frames[1]!.payload as { event: { channel_type: string } }).event.channel_type).toBe("im");
  });

  it("refuses a used or unknown ticket", async () => {
    const url = await socketUrl();
    await connect(url);
    await expect(connect(url)).rejects.toThrow(/401/);
    await expect(connect(url.replace(/ticket=[^&]+/, "ticket=forged"))).rejects.toThrow(/401/);
  });

  it("records acks with latency; resends unacked events as retries with the same event_id", async () => {
    const ws = await connect();
    const { envelopeIds, eventIds } = fake.mention({ channel: "C0GENERAL", user: "U0ALICE", text: "hi" });
    const [message, mention] = await Promise.all(envelopeIds.map(envelope));
    ws.send(JSON.stringify({ envelope_id: message!.envelope_id, payload: {} }));
    const ack = await fake.waitForAck(String(message!.envelope_id));
    expect(ack).toMatchObject({ type: "events_api", payload: {}, latencyMs: expect.any(Number) });
    const [retry] = fake.retryUnacked();
    expect(retry).toMatchObject({ retry_attempt: 1, retry_reason: "timeout", retryOf: mention!.envelope_id });
    const resent = await envelope(retry!.envelope_id);
    expect((resent.payload as { event_id: string }).event_id).toBe(eventIds[1]);
    // Unanswered, it is retried up to three times; then no more.
    for (let attempt = 2; attempt <= 3; attempt++) expect(fake.retryUnacked().map((e) => e.retry_attempt)).toEqual([attempt]);
    expect(fake.retryUnacked()).toEqual([]);
    ws.send(JSON.stringify({ envelope_id: message!.envelope_id, payload: {} }));
    ws.send(JSON.stringify({ type: "noise" }));
    await fake.waitUntil(() => fake.violations.length >= 2, 2000, "violations");
    expect(fake.violations).toEqual([`envelope ${String(message!.envelope_id)} acked twice`, 'socket mode: the app sent a message without envelope_id: {"type":"noise"}']);
  });

  it("flags a late ack, and applies a slash command's ack and a view_submission's response_action", async () => {
    const ws = await connect();
    const command = fake.slashCommand({ command: "/ask", text: "", user: "U0ALICE", channel: "C0GENERAL" });
    await envelope(command.envelopeId);
    const view = { type: "modal", callback_id: "ask", title: { type: "plain_text", text: "Ask" }, submit: { type: "plain_text", text: "Send" }, blocks: [{ type: "input", block_id: "q", label: { type: "plain_text", text: "Question" }, element: { type: "plain_text_input", action_id: "text" } }] };
    const opened = await fetch(`${fake.apiUrl}views.open`, { method: "POST", headers: { Authorization: `Bearer ${fake.botToken}`, "Content-Type": "application/json" }, body: JSON.stringify({ trigger_id: command.triggerId, view }) });
    const viewId = String(((await opened.json()) as { view: { id: string } }).view.id);
    ws.send(JSON.stringify({ envelope_id: command.envelopeId, payload: { text: "Opening a form…" } }));
    await fake.waitForAck(command.envelopeId);
    expect(fake.ephemerals("U0ALICE").map((e) => e.text)).toEqual(["Opening a form…"]);
    expect(() => fake.submitView({ viewId, values: {} })).toThrow(/required/);
    const submitted = fake.submitView({ viewId, values: { text: "why?" } });
    await envelope(submitted.envelopeId);
    ws.send(JSON.stringify({ envelope_id: submitted.envelopeId, payload: { response_action: "errors", errors: { q: "Too short", nope: "x" } } }));
    await fake.waitForAck(submitted.envelopeId);
    expect(fake.views.get(viewId)).toMatchObject({ open: true, lastResponse: { response_action: "errors" } });
    expect(fake.violations).toEqual([`view_submission ack: errors names "nope", not an input block_id of view ${viewId}`]);
    // With a deadline of 0 ms every ack is late.
    fake.ackDeadlineMs = 0;
    const late = fake.userMessage({ channel: "D0ALICE", user: "U0ALICE", text: "slow" }).envelopeIds[0]!;
    await envelope(late);
    ws.send(JSON.stringify({ envelope_id: late, payload: {} }));
    await fake.waitForAck(late);
    expect(fake.violations.at(-1)).toMatch(new RegExp(`^envelope ${late} \\(events_api\\) acked after \\d+ ms \\(the deadline is 0 ms\\)$`));
  });

  it("asks for a refresh with a disconnect message, and drops sockets", async () => {
    const ws = await connect();
    expect(fake.requestRefresh()).toBe(1);
    await fake.waitUntil(() => frames.some((f) => f.type === "disconnect"), 2000, "the disconnect message");
    expect(frames.find((f) => f.type === "disconnect")).toMatchObject({ reason: "refresh_requested" });
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    expect(fake.dropSockets()).toBe(1);
    expect(await closed).toBe(1006);
    await fake.waitUntil(() => fake.openSockets === 0, 2000, "the socket to close");
  });
});
