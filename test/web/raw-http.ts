/**
 * HTTP below fetch, for tests that need what fetch won't do: a chosen local address, an
 * Upgrade header, a body shorter than its Content-Length, raw bytes on the socket.
 */
import http from "node:http";
import net from "node:net";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: any;
}

/**
 * One request with node:http. An upgrade the server refuses arrives as a plain response;
 * one it accepts (101) is reported as status 101 and its socket closed.
 */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; localAddress?: string },
): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? "GET",
        path: `${target.pathname.replace(/\/$/, "")}${options.path}`,
        headers: options.headers ?? {},
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: any;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
        response.on("error", reject);
      },
    );
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 101, headers: response.headers, text: "", json: undefined });
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

/** Headers of a well-formed WebSocket handshake (RFC 6455 §4.1). */
export function websocketHandshake(): Record<string, string> {
  return { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": Buffer.from("0123456789abcdef").toString("base64") };
}

export interface RawSocket {
  socket: net.Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<{ data: string; at: number }>;
}

/** A TCP connection to the server: the test writes bytes as it likes. */
export async function rawSocket(url: string): Promise<RawSocket> {
  const target = new URL(url);
  const socket = net.connect({ host: target.hostname, port: Number(target.port) });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<{ data: string; at: number }>((resolve) => {
    socket.on("error", () => undefined);
    socket.once("close", () => resolve({ data: Buffer.concat(chunks).toString("latin1"), at: Date.now() }));
  });
  return { socket, closed };
}

/** The value of one sample in Prometheus text (`name{labels}`), or undefined. */
export async function metric(url: string, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}
