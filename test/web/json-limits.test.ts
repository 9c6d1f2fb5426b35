import { afterEach, describe, expect, it } from "vitest";
import { checkJsonDepth, JSON_LIMITS } from "../../src/api/json-limits.ts";
import { z } from "zod";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { useWebBots, type WebBot } from "./web-setup.ts";

/** Free-form JSON is bounded at the edge: depth on the raw text before any parse, size of free-form values; 400 naming the field and the limit. */
const start = useWebBots(afterEach);

/** Takes any JSON as its input: the API's bounds are what is tested, not a schema. */
const anything = defineWorkflow({ name: "anything", input: z.unknown(), run: async () => ({ text: "ok" }) });

const nested = (levels: number, inner = "1") => `${"[".repeat(levels)}${inner}${"]".repeat(levels)}`;

async function session(w: WebBot): Promise<string> {
  return (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
}

describe("the depth of JSON bodies", () => {
  it("refuses a schedule whose input nests 4,000 levels with 400 naming input and the limit; listing still works for everyone", async () => {
    const w = await start();
    const sessionId = await session(w);
    const body = `{"sessionId":${JSON.stringify(sessionId)},"cron":"0 9 * * *","workflow":"demo","input":${nested(4000)}}`;
    const deep = await w.call("POST", "/api/v1/schedules", { body });
    expect(deep.status).toBe(400);
    expect(deep.body).toEqual({ error: "bad_request", message: "input: nested 4,000 levels deep; the limit is 32." });
    expect((await w.call("GET", "/api/v1/schedules")).status).toBe(200);
    expect((await w.call("GET", "/api/v1/schedules", { as: "bob" })).status).toBe(200);
    expect((await w.call("GET", "/api/v1/schedules", { as: "rev" })).body.items).toEqual([]);
  });

  it("answers 400, not 500, however deep: 4,110 and 200,000 levels, in any field, in a top-level array, on every JSON route", async () => {
    const w = await start();
    const sessionId = await session(w);
    const cases: Array<[string, string, string]> = [
      ["/api/v1/schedules", `{"sessionId":"${sessionId}","cron":"0 9 * * *","workflow":"demo","input":${nested(4110)}}`, "input: nested 4,110 levels deep"],
      ["/api/v1/tasks", `{"workflow":"demo","input":${nested(200_000)}}`, "input: nested 200,000 levels deep"],
      ["/api/v1/tasks", `{"workflow":"demo","input":{"a":${nested(40, "{}")}}}`, "input: nested 42 levels deep"],
      ["/api/v1/tasks", `{"workflow":"demo","colour":${nested(100)}}`, "colour: nested 100 levels deep"],
      ["/api/qa", `{"question":"owls","extra":${nested(5000)}}`, "extra: nested 5,000 levels deep"],
      [`/api/v1/sessions/${sessionId}/messages`, `{"text":${nested(3000)}}`, "text: nested 3,000 levels deep"],
      ["/api/v1/sessions", nested(50_000), "body: nested 50,000 levels deep"],
      // Brackets inside strings are text, not depth; escaped quotes don't end a string.
    ];
    for (const [path, body, message] of cases) {
      const response = await w.call("POST", path, { body });
      expect(response.status, path).toBe(400);
      expect(response.body).toEqual({ error: "bad_request", message: `${message}; the limit is ${JSON_LIMITS.maxDepth}.` });
    }
    const text = `{"text":"${"[".repeat(5000)} \\" ${"{".repeat(100)}"}`;
    expect((await w.call("POST", `/api/v1/sessions/${sessionId}/messages`, { body: text })).status).toBe(202);
    expect((await w.call("GET", "/healthz", { as: null })).status).toBe(200);
  });

  it("takes input exactly at the limit, and lists it back", async () => {
    const w = await start({ workflows: [anything] });
    const sessionId = await session(w);
    const atLimit = JSON.parse(nested(JSON_LIMITS.maxDepth));
    const created = await w.call("POST", "/api/v1/schedules", { body: { sessionId, cron: "0 9 * * *", workflow: "anything", input: atLimit } });
    expect(created.status).toBe(201);
    const listed = await w.call("GET", "/api/v1/schedules");
    expect(listed.body.items[0].input).toEqual(atLimit);
    const over = await w.call("POST", "/api/v1/schedules", { body: { sessionId, cron: "0 9 * * *", workflow: "anything", input: [atLimit] } });
    expect(over.body.message).toBe(`input: nested 33 levels deep; the limit is ${JSON_LIMITS.maxDepth}.`);
  });
});

describe("the size and keys of free-form values", () => {
  it("refuses input over maxValueBytes, and a __proto__ key, naming the field", async () => {
    const w = await start();
    const sessionId = await session(w);
    const big = { text: "owls", notes: "é".repeat(40_000) };
    const bytes = Buffer.byteLength(JSON.stringify(big));
    const tooBig = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: big } });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body).toEqual({ error: "bad_request", message: `input: ${bytes.toLocaleString("en-US")} bytes as JSON; the limit is 65,536.` });
    const schedule = await w.call("POST", "/api/v1/schedules", { body: { sessionId, cron: "0 9 * * *", workflow: "demo", input: big } });
    expect(schedule.body.message).toMatch(/^input: [\d,]+ bytes as JSON; the limit is 65,536\.$/);
    const proto = await w.call("POST", "/api/v1/tasks", { body: '{"workflow":"demo","input":{"text":"owls","deep":{"__proto__":{"isAdmin":true}}}}' });
    expect(proto.status).toBe(400);
    expect(proto.body).toEqual({ error: "bad_request", message: "input.deep: the key __proto__ is not allowed." });
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("describes the limits in the OpenAPI document", async () => {
    const w = await start();
    const doc = (await w.call("GET", "/api/v1/openapi.json")).body;
    const input = doc.paths["/tasks"].post.requestBody.content["application/json"].schema.properties.input;
    expect(input).toMatchObject({ "x-max-depth": 32, "x-max-bytes": 65_536, description: expect.stringContaining("at most 32 levels deep and 65,536 bytes") });
    const scheduleInput = doc.paths["/schedules"].post.requestBody.content["application/json"].schema.properties.input;
    expect(scheduleInput).toMatchObject({ "x-max-depth": 32 });
    expect(doc.info.description).toContain("at most 32 levels");
    expect(doc.paths["/tasks"].post.responses["400"].description).toContain("32 levels");
    expect(doc.paths["/tasks"].post.responses["422"]).toBeDefined();
  });
});

describe("checkJsonDepth", () => {
  it("reads depth without recursion, skipping strings, naming the top-level key", () => {
    expect(checkJsonDepth(`{"a":1,"b":${nested(3)}}`, 2)).toEqual({ field: "b", message: "b: nested 3 levels deep; the limit is 2." });
    expect(checkJsonDepth(`{"a":"[[[[[[","b":[[1]]}`, 2)).toBeUndefined();
    expect(checkJsonDepth(`{"a\\"b":${nested(3)}}`, 2)?.field).toBe('a"b');
    expect(checkJsonDepth(nested(1_000_000), 32)?.message).toBe("body: nested 1,000,000 levels deep; the limit is 32.");
  });
});
