import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { encodeForHttp, postSigned } from "./http-mode.ts";
import { id, type Ack, type Json, type SentEnvelope } from "./protocol.ts";

/**
 * Delivers envelopes to the app: over Socket Mode (a `ws` server on the fake's port, path
 * `/socket?ticket=…`, tickets issued by apps.connections.open) or, once `httpTarget` is set,
 * posted signed to the app's Request URL. Records what was sent and the acks with their latency.
 */

export interface DeliveryHooks {
  appId: string;
  signingSecret: string;
  /** An ack arrived (over the socket, or as an HTTP answer): the fake acts on its payload. */
  onAck(ack: Ack, envelope: SentEnvelope): void;
  violation(text: string): void;
  changed(): void;
}

export class SocketMode {
  /** Every envelope, in order (retries included). */
  readonly envelopes: SentEnvelope[] = [];
  readonly acks: Ack[] = [];
  /** Connections that got a hello, ever. */
  connections = 0;
  /** When set, envelopes are posted here (HTTP mode) instead of sent over the socket. */
  httpTarget: string | undefined;
  /** Acks this late or later are violations (Slack's 3 s). */
  ackDeadlineMs = 3000;

  readonly #hooks: DeliveryHooks;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets: WebSocket[] = [];
  readonly #tickets = new Set<string>();

  constructor(hooks: DeliveryHooks) {
    this.#hooks = hooks;
  }

  get openSockets(): number {
    return this.#sockets.length;
  }

  /** A single-use ticket for the Socket Mode URL. */
  issueTicket(): string {
    const ticket = id("tk").toLowerCase();
    this.#tickets.add(ticket);
    return ticket;
  }

  /** Takes an HTTP upgrade for `/socket?ticket=…` (refused with 401 without a valid, unused ticket). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const ticket = url.searchParams.get("ticket") ?? "";
    if (url.pathname !== "/socket" || !this.#tickets.delete(ticket)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  #accept(ws: WebSocket): void {
    this.#sockets.push(ws);
    this.connections++;
    ws.on("message", (data) => this.#received(String(data)));
    ws.on("close", () => {
      this.#sockets.splice(this.#sockets.indexOf(ws), 1);
      this.#hooks.changed();
    });
    ws.on("error", () => undefined);
    ws.send(JSON.stringify({ type: "hello", num_connections: this.#sockets.length, debug_info: { host: "applink-fake-1", build_number: 1, approximate_connection_time: 18060 }, connection_info: { app_id: this.#hooks.appId } }));
    for (const envelope of this.envelopes) if (envelope.sentAt === 0) this.#write(envelope);
    this.#hooks.changed();
  }

  #received(text: string): void {
    let message: Json;
    try {
      message = JSON.parse(text) as Json;
    } catch {
      return this.#hooks.violation(`socket mode: the app sent something that isn't JSON: ${text.slice(0, 80)}`);
    }
    if (typeof message.envelope_id !== "string") return this.#hooks.violation(`socket mode: the app sent a message without envelope_id: ${text.slice(0, 80)}`);
    this.#ack(message.envelope_id, (message.payload ?? {}) as Json);
  }

  #ack(envelopeId: string, payload: Json): void {
    const envelope = this.envelopes.find((e) => e.envelope_id === envelopeId);
    if (!envelope) return this.#hooks.violation(`ack for an unknown envelope ${envelopeId}`);
    if (envelope.acked) return this.#hooks.violation(`envelope ${envelopeId} acked twice`);
    envelope.acked = true;
    const ack: Ack = { envelopeId, type: envelope.type, payload, latencyMs: Date.now() - envelope.sentAt, at: Date.now() };
    this.acks.push(ack);
    if (ack.latencyMs >= this.ackDeadlineMs) this.#hooks.violation(`envelope ${envelopeId} (${envelope.type}) acked after ${ack.latencyMs} ms (the deadline is ${this.ackDeadlineMs} ms)`);
    this.#hooks.onAck(ack, envelope);
    this.#hooks.changed();
  }

  /** Sends (or queues until a socket opens) an envelope; events carry retry_attempt/retry_reason. */
  send(type: string, payload: unknown, options: { retryAttempt?: number; retryReason?: string; retryOf?: string } = {}): SentEnvelope {
    const envelope: SentEnvelope = {
      envelope_id: crypto.randomUUID(),
      type,
      payload,
      accepts_response_payload: type === "slash_commands" || (type === "interactive" && (payload as Json)?.type === "view_submission"),
      ...(type === "events_api" ? { retry_attempt: options.retryAttempt ?? 0, retry_reason: options.retryReason ?? "" } : {}),
      sentAt: 0,
      acked: false,
      ...(options.retryOf ? { retryOf: options.retryOf } : {}),
    };
    this.envelopes.push(envelope);
    this.#write(envelope);
    return envelope;
  }

  #write(envelope: SentEnvelope): void {
    if (this.httpTarget) return void this.#post(envelope, this.httpTarget);
    const socket = this.#sockets.at(-1);
    if (!socket) return;
    envelope.sentAt = Date.now();
    const { sentAt: _s, acked: _a, retryOf: _r, ...wire } = envelope;
    socket.send(JSON.stringify(wire));
    this.#hooks.changed();
  }

  async #post(envelope: SentEnvelope, url: string): Promise<void> {
    envelope.sentAt = Date.now();
    const { body, contentType } = encodeForHttp(envelope.type, envelope.payload);
    const result = await postSigned(url, body, contentType, { secret: this.#hooks.signingSecret, ...(envelope.retry_attempt ? { retryNum: envelope.retry_attempt, retryReason: envelope.retry_reason } : {}) });
    if (result.status >= 200 && result.status < 300) this.#ack(envelope.envelope_id, result.body !== null && typeof result.body === "object" ? (result.body as Json) : {});
    else this.#hooks.changed();
  }

  /** Resends every unacked events_api envelope once more (retry_attempt + 1, at most 3; same event_id). */
  retryUnacked(reason = "timeout"): SentEnvelope[] {
    const retried = new Set(this.envelopes.map((e) => e.retryOf));
    const due = this.envelopes.filter((e) => e.type === "events_api" && !e.acked && e.sentAt > 0 && !retried.has(e.envelope_id) && (e.retry_attempt ?? 0) < 3);
    return due.map((e) => this.send(e.type, e.payload, { retryAttempt: (e.retry_attempt ?? 0) + 1, retryReason: reason, retryOf: e.envelope_id }));
  }

  /** Writes anything to the open socket as is (strings raw, anything else as JSON). */
  sendRaw(data: unknown): void {
    const socket = this.#sockets.at(-1);
    if (!socket) throw new Error("No Socket Mode connection is open.");
    socket.send(typeof data === "string" ? data : JSON.stringify(data));
  }

  /** Closes every connection abruptly (no close frame); returns how many. */
  dropSockets(): number {
    const sockets = [...this.#sockets];
    for (const socket of sockets) socket.terminate();
    return sockets.length;
  }

  /** Sends `{"type":"disconnect","reason":…}` on every open connection (Slack's refresh); returns how many. */
  requestRefresh(reason = "refresh_requested"): number {
    for (const socket of this.#sockets) socket.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "applink-fake-1" } }));
    return this.#sockets.length;
  }

  /**
   * Closes the connections with a close frame (an app that is stopping finishes its handshake
   * instead of logging a socket error), terminating any still open after 500 ms.
   */
  async close(): Promise<void> {
    const open = [...this.#sockets];
    const closed = open.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())));
    for (const socket of open) socket.close(1001, "fake Slack closing");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, 500)))]);
    clearTimeout(timer);
    for (const socket of [...this.#sockets]) socket.terminate();
    this.#wss.close();
  }
}
