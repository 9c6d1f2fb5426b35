import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket } from "ws";
import type { Json } from "./protocol.ts";

/**
 * The gateway: a `ws` server on the fake's port (`/` as GET /gateway/bot names it, `/resume`
 * as READY's resume_gateway_url does; `?v=10&encoding=json`). HELLO; IDENTIFY (op 2, token and
 * intents checked: 4004, 4013, 4014) → READY; heartbeats (op 1) acked with op 11; RESUME
 * (op 6) replays the dispatches after the client's sequence, then RESUMED, or answers op 9
 * when the session can't resume. Dispatches while the client is away wait in the session's
 * log and are replayed on resume, as Discord does. The fake has one shard and keeps one session:
 * an IDENTIFY while another identified socket is still open is recorded in `overlaps` (Discord
 * would then send every event to both: the bot answers twice).
 */

export interface GatewayHooks {
  token: string;
  /** Privileged intents enabled "in the developer portal" (others → close 4014). */
  privilegedIntents(): number;
  /** READY's `d` for a new session. */
  ready(session: Session, resumeUrl: string): Json;
  /** Right after READY (the fake sends GUILD_CREATE for its guilds). */
  afterReady(session: Session): void;
  violation(text: string): void;
  changed(): void;
}

/** A gateway session: its id, sequence, log of dispatches, and the socket it is on (if any). */
export interface Session {
  id: string;
  seq: number;
  intents: number;
  log: Array<{ s: number; t: string; d: unknown }>;
  socket?: WebSocket;
}

/** One WebSocket connection the client opened. */
export interface GatewayConnection {
  path: string;
  query: Record<string, string>;
  at: number;
  /** What the client did on it: identify, resume, or nothing yet. */
  did?: "identify" | "resume" | "resume refused";
  closeCode?: number;
}

const PRIVILEGED = (1 << 1) | (1 << 8) | (1 << 15);
const ALL_INTENTS = (1 << 26) - 1;

export class Gateway {
  /** Every connection, in order. */
  readonly connections: GatewayConnection[] = [];
  identifies = 0;
  resumes = 0;
  heartbeats = 0;
  /** IDENTIFYs accepted while another identified socket was still open (when, and how many were open). */
  readonly overlaps: Array<{ at: number; open: number }> = [];
  /** HELLO's heartbeat_interval (Discord's is 41250 ms). */
  heartbeatIntervalMs = 41_250;
  /** Answer heartbeats (set false to make the client see a zombie connection and resume). */
  ackHeartbeats = true;
  session: Session | undefined;
  readonly #hooks: GatewayHooks;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  /** Sockets that identified or resumed, while open. */
  readonly #identified = new Set<WebSocket>();
  #origin = "";

  constructor(hooks: GatewayHooks) {
    this.#hooks = hooks;
  }

  /** `ws://127.0.0.1:PORT`: what GET /gateway/bot answers. */
  set origin(origin: string) {
    this.#origin = origin.replace(/^http/, "ws");
  }

  get url(): string {
    return this.#origin;
  }

  /** Sockets open now. */
  get openSockets(): number {
    return this.#sockets.size;
  }

  /** Whether the session has a socket that receives dispatches now. */
  get live(): boolean {
    return this.session?.socket?.readyState === WebSocket.OPEN;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/" && url.pathname !== "/resume") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const connection: GatewayConnection = { path: url.pathname, query: Object.fromEntries(url.searchParams), at: Date.now() };
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, connection));
  }

  #accept(ws: WebSocket, connection: GatewayConnection): void {
    this.connections.push(connection);
    this.#sockets.add(ws);
    const q = connection.query;
    if (q.v !== "10" || q.encoding !== "json") this.#hooks.violation(`gateway: connected with v=${q.v} encoding=${q.encoding} (the fake speaks v=10, json)`);
    if (q.compress !== undefined) this.#hooks.violation(`gateway: asked for compress=${q.compress}; the fake sends plain JSON (don't install zlib-sync in tests)`);
    ws.on("message", (data) => this.#received(ws, connection, String(data)));
    ws.on("close", (code) => {
      connection.closeCode = code;
      this.#sockets.delete(ws);
      this.#identified.delete(ws);
      if (this.session?.socket === ws) delete this.session.socket;
      this.#hooks.changed();
    });
    ws.on("error", () => undefined);
    this.#send(ws, { op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs, _trace: ["[\"fake-gateway\"]"] }, s: null, t: null });
    this.#hooks.changed();
  }

  #received(ws: WebSocket, connection: GatewayConnection, text: string): void {
    let payload: Json;
    try {
      payload = JSON.parse(text) as Json;
    } catch {
      this.#hooks.violation(`gateway: the client sent something that isn't JSON: ${text.slice(0, 60)}`);
      return void ws.close(4002, "Error while decoding payload.");
    }
    const d = (payload.d ?? {}) as Json;
    switch (payload.op) {
      case 1:
        this.heartbeats++;
        if (this.ackHeartbeats) this.#send(ws, { op: 11, d: null, s: null, t: null });
        break;
      case 2:
        return this.#identify(ws, connection, d);
      case 6:
        return this.#resume(ws, connection, d);
      case 3:
      case 4:
      case 8:
        break;
      default:
        this.#hooks.violation(`gateway: unknown opcode ${String(payload.op)}`);
        ws.close(4001, "Unknown opcode.");
    }
    this.#hooks.changed();
  }

  #identify(ws: WebSocket, connection: GatewayConnection, d: Json): void {
    if (connection.did) return void ws.close(4005, "Already authenticated.");
    if (d.token !== this.#hooks.token) return void ws.close(4004, "Authentication failed.");
    const intents = d.intents;
    if (typeof intents !== "number" || !Number.isInteger(intents) || (intents & ~ALL_INTENTS) !== 0) return void ws.close(4013, "Invalid intent(s).");
    if ((intents & PRIVILEGED & ~this.#hooks.privilegedIntents()) !== 0) return void ws.close(4014, "Disallowed intent(s).");
    connection.did = "identify";
    this.identifies++;
    const others = [...this.#identified].filter((other) => other !== ws && other.readyState === WebSocket.OPEN).length;
    if (others > 0) this.overlaps.push({ at: Date.now(), open: others });
    this.#identified.add(ws);
    const session: Session = { id: crypto.randomUUID().replace(/-/g, ""), seq: 0, intents, log: [], socket: ws };
    this.session = session;
    session.seq++;
    this.#send(ws, { op: 0, t: "READY", s: session.seq, d: this.#hooks.ready(session, `${this.#origin}/resume`) });
    this.#hooks.afterReady(session);
    this.#hooks.changed();
  }

  #resume(ws: WebSocket, connection: GatewayConnection, d: Json): void {
    const session = this.session;
    if (!session || d.session_id !== session.id || d.token !== this.#hooks.token || typeof d.seq !== "number") {
      connection.did = "resume refused";
      this.#send(ws, { op: 9, d: false, s: null, t: null });
      return this.#hooks.changed();
    }
    connection.did = "resume";
    this.resumes++;
    this.#identified.add(ws);
    if (session.socket && session.socket !== ws) session.socket.terminate();
    session.socket = ws;
    for (const entry of session.log) if (entry.s > (d.seq as number)) this.#send(ws, { op: 0, ...entry });
    session.seq++;
    this.#send(ws, { op: 0, t: "RESUMED", s: session.seq, d: { _trace: ["[\"fake-gateway\"]"] } });
    this.#hooks.changed();
  }

  /**
   * Sends a dispatch on the session (or keeps it in the session's log until the client
   * resumes). Throws when no client ever identified. Returns its sequence number.
   */
  dispatch(t: string, d: unknown): { s: number; sent: boolean } {
    const session = this.session;
    if (!session) throw new Error(`No gateway session to dispatch ${t} on: log the client in first (and wait for it to be ready).`);
    session.seq++;
    const entry = { s: session.seq, t, d };
    session.log.push(entry);
    if (session.log.length > 10_000) session.log.splice(0, 1000);
    const sent = session.socket?.readyState === WebSocket.OPEN;
    if (sent) this.#send(session.socket!, { op: 0, ...entry });
    return { s: entry.s, sent };
  }

  /** Writes anything to the session's socket (strings raw). */
  sendRaw(data: unknown): void {
    const socket = this.session?.socket;
    if (!socket) throw new Error("No gateway socket is open.");
    socket.send(typeof data === "string" ? data : JSON.stringify(data));
  }

  /** Closes every socket abruptly (no close frame: the client sees 1006 and resumes); returns how many. */
  drop(): number {
    const sockets = [...this.#sockets];
    for (const socket of sockets) socket.terminate();
    return sockets.length;
  }

  /** Sends op 7 RECONNECT (the client closes with 4200 and resumes); returns how many sockets got it. */
  requestReconnect(): number {
    for (const socket of this.#sockets) this.#send(socket, { op: 7, d: null, s: null, t: null });
    return this.#sockets.size;
  }

  /** Sends op 9 INVALID_SESSION; unless `resumable`, the session is forgotten (the client identifies again). */
  invalidateSession(resumable = false): number {
    const count = this.#sockets.size;
    for (const socket of this.#sockets) this.#send(socket, { op: 9, d: resumable, s: null, t: null });
    if (!resumable) this.session = undefined;
    return count;
  }

  /** Closes every socket with a gateway close code (4000 resumes, 4004 is fatal, 4009 resumes, ...); returns how many. */
  closeWith(code: number, reason = ""): number {
    const count = this.#sockets.size;
    for (const socket of this.#sockets) socket.close(code, reason);
    return count;
  }

  #send(ws: WebSocket, payload: Json): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(payload));
  }

  /** Closes the sockets (1001, then abruptly after 500 ms) and the server. */
  async close(): Promise<void> {
    const open = [...this.#sockets];
    const closed = open.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())));
    for (const socket of open) socket.close(1001, "fake Discord closing");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, 500)))]);
    clearTimeout(timer);
    for (const socket of [...this.#sockets]) socket.terminate();
    this.#wss.close();
  }
}
