import type { IncomingMessage, ServerResponse } from "node:http";
import type { Failures, FailureAnswer } from "./failures.ts";
import { readBody, send, type RecordedCall } from "./protocol.ts";
import { RestError, routeName, type RestContext } from "./rest.ts";
import { matchRoute, majorOf } from "./routes.ts";
import { errorTree, type Problem } from "./schema.ts";

/**
 * One REST request, Discord's way: route (under `/api/v10`), auth (`Authorization: Bot <token>`
 * on bot routes → 401 `{message: "401: Unauthorized", code: 0}`), failure rules, the route's
 * rate-limit window (bucket headers on every answer, 429 when an enforced limit is spent),
 * the body and query against the spec and the documented limits (fatal problems → 400 50035
 * with Discord's nested `errors`; unknown fields only recorded), then the handler. Every
 * problem lands in `violations` as `ROUTE: path: message`.
 */
export async function serveRest(ctx: RestContext, failures: Failures, req: IncomingMessage, res: ServerResponse, record: (call: RecordedCall) => void): Promise<void> {
  const at = Date.now();
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const raw = await readBody(req);
  const method = req.method ?? "GET";
  const version = /^\/api\/v(\d+)(\/.*)$/.exec(url.pathname);
  const path = version?.[2] ?? url.pathname;
  const matched = version?.[1] === "10" ? matchRoute(method, path) : undefined;
  const route = matched ? routeName(matched.route) : "?";
  const authorization = req.headers.authorization;
  const call: RecordedCall = {
    method, route, path: path.replace(/%40/gi, "@"), params: matched?.params ?? {}, query: Object.fromEntries(url.searchParams), body: undefined,
    auth: authorization === undefined ? "none" : authorization === `Bot ${ctx.identity.token}` ? "bot" : "wrong", at, status: 0,
  };
  let headers: Record<string, string> = {};
  const reply = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
    call.status = status;
    if (body && typeof body === "object" && "code" in body && typeof (body as { code: unknown }).code === "number" && status >= 400) call.code = (body as { code: number }).code;
    record(call);
    send(res, status, body, { ...headers, ...extra });
  };
  const error = (e: RestError) => reply(e.error.status, { message: e.error.message, code: e.error.code, ...(e.error.errors ? { errors: e.error.errors } : {}) });
  const violations = (problems: Problem[]) => {
    for (const p of problems) ctx.violation(`${route}: ${p.path === "" ? "(body)" : p.path}: ${p.message}`);
  };

  if (!matched) {
    const known = version?.[1] === "10" && ctx.spec.knows(method, path);
    ctx.violation(`${method} ${url.pathname}: ${version?.[1] !== "10" ? "not under /api/v10" : known ? "a Discord route the fake doesn't serve" : "no such Discord route"}`);
    return reply(404, { message: "404: Not Found", code: 0 });
  }
  if (matched.route.auth === "bot" && call.auth !== "bot") return reply(401, { message: "401: Unauthorized", code: 0 });
  if (raw !== "") {
    if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
      ctx.violation(`${route}: a ${String(req.headers["content-type"] ?? "body without Content-Type")} body: the fake takes JSON only (no file uploads)`);
      return reply(400, { message: "Invalid Form Body", code: 50035 });
    }
    try {
      call.body = JSON.parse(raw);
    } catch {
      ctx.violation(`${route}: the body is not valid JSON`);
      return reply(400, { message: "The request body contains invalid JSON.", code: 50109 });
    }
  }

  const failure: FailureAnswer | undefined = failures.fromRule(route, call);
  if (failure) {
    call.injected = failure.kind;
    if (failure.kind === "drop") {
      call.status = 0;
      record(call);
      return void req.socket.destroy();
    }
    return reply(failure.status, failure.body, failure.headers);
  }
  const counted = failures.count(route, majorOf(matched.params));
  if ("limited" in counted) {
    call.injected = "ratelimited";
    return reply(429, counted.limited.body, counted.limited.headers);
  }
  headers = counted.headers;

  const problems = [...ctx.spec.checkBody(matched.route.spec, call.body), ...ctx.spec.checkQuery(matched.route.spec, call.query)];
  const fatalPaths = new Set(problems.filter((p) => !p.unknown).map((p) => p.path));
  // The documented limits, unless the spec already flagged the same field.
  if (call.body !== undefined && matched.route.limits) problems.push(...matched.route.limits(call.body).filter((p) => !fatalPaths.has(p.path)));
  violations(problems);
  const fatal = problems.filter((p) => !p.unknown);
  if (fatal.length > 0) return reply(400, { message: "Invalid Form Body", code: 50035, errors: errorTree(fatal) });

  try {
    const answer = matched.route.handler(ctx, { route, params: matched.params, query: call.query, body: call.body, call });
    if (answer.status === 200) for (const key of ctx.spec.missingAnswerKeys(matched.route.spec, answer.body)) ctx.violation(`fake: the ${route} answer lacks "${key}" (a bug of the fake)`);
    reply(answer.status, answer.body);
  } catch (e) {
    if (e instanceof RestError) return error(e);
    ctx.violation(`fake: ${route} threw ${String(e)} (a bug of the fake)`);
    reply(500, { message: "500: Internal Server Error", code: 0 });
  }
}
