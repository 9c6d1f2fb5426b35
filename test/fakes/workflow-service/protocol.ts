import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The remote-workflow contract as JSON types, the routes, and the checks the fake applies to
 * requests (see README.md for the wire description).
 */

/** `POST {base}/runs` body. */
export interface CreateRunBody {
  input: unknown;
  session: unknown;
  user: unknown;
}

/** A link in a completed run's result. */
export interface WorkflowLink {
  url: string;
  title?: string;
}

/** A completed run's result. */
export interface WorkflowResult {
  text: string;
  links?: WorkflowLink[];
}

/** What an interrupted run asks. */
export interface WorkflowInterrupt {
  question: string;
  choices?: string[];
}

/** The contract's statuses (a cancelled run is `failed` with error `"cancelled"`). */
export type RunStatus = "running" | "interrupted" | "completed" | "failed";

/** `GET {base}/runs/{id}` body: only the fields that apply to the status are present. */
export interface RunState {
  status: RunStatus;
  progress?: number;
  step?: string;
  interrupt?: WorkflowInterrupt;
  result?: WorkflowResult;
  error?: string;
}

/** The contract's routes, as named in failure rules and request records. */
export type Route = "create" | "get" | "resume" | "cancel";

/** The route a method and path address (`runId` for the per-run routes), or undefined. */
export function matchRoute(method: string, path: string): { route: Route; runId?: string } | undefined {
  if (path === "/runs") return method === "POST" ? { route: "create" } : undefined;
  const m = /^\/runs\/([^/]+)(?:\/(resume|cancel))?$/.exec(path);
  if (!m) return undefined;
  const runId = decodeURIComponent(m[1]!);
  if (m[2] === undefined) return method === "GET" ? { route: "get", runId } : undefined;
  return method === "POST" ? { route: m[2] as "resume" | "cancel", runId } : undefined;
}

/** Problems with a `POST /runs` body (empty when it follows the contract). */
export function checkCreateBody(body: unknown): string[] {
  if (!isObject(body)) return ["POST /runs: body must be a JSON object {input, session, user}"];
  const problems: string[] = [];
  for (const field of ["input", "session", "user"] as const) {
    if (body[field] === undefined || body[field] === null) problems.push(`POST /runs: "${field}" is missing`);
  }
  return problems;
}

/** Problems with a `POST /runs/{id}/resume` body. */
export function checkResumeBody(body: unknown, runId: string): string[] {
  if (!isObject(body) || typeof body.answer !== "string") return [`POST /runs/${runId}/resume: body must be {answer: string}`];
  return [];
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Headers whose values are never recorded. */
const SECRET_HEADERS = new Set(["authorization", "x-api-key", "cookie", "proxy-authorization"]);

/** Request headers with secret values replaced by `"[redacted]"`. */
export function redactHeaders(headers: IncomingMessage["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name) ? "[redacted]" : Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** Sends JSON (no-op if the response already ended or its socket is gone). */
export function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end(payload === undefined ? "" : JSON.stringify(payload));
}

/** Sends a body that is not valid JSON, with a JSON content type. */
export function sendMalformed(res: ServerResponse, status: number): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end('{"status": "runn');
}

export { readBody } from "../http.ts";

/** Parses a request body: `undefined` when empty, `{ invalid: raw }` when not JSON. */
export function parseBody(raw: string): { body?: unknown; invalid?: string } {
  if (raw.trim() === "") return {};
  try {
    return { body: JSON.parse(raw) as unknown };
  } catch {
    return { invalid: raw };
  }
}
