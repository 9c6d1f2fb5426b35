#!/usr/bin/env node
/**
 * Regenerates discord-openapi.trimmed.json from Discord's full OpenAPI spec:
 *
 *   node test/fakes/discord/spec/trim-spec.mjs <path to upstream specs/openapi.json>
 *
 * Upstream: https://github.com/discord/discord-api-spec (specs/openapi.json, OpenAPI 3.1,
 * "Discord HTTP API (Preview)", info.version 10), MIT licence (the spec's `info.license`).
 * Keeps what the fake (../spec.ts) validates against: for each operation it serves, the path
 * and query parameters, the JSON request body schema, the success statuses and the keys the
 * success answer must carry; the component schemas those bodies and parameters reach, without
 * descriptions; and the names of every other operation (a call to one is "not served by the
 * fake", not "no such route"). The upstream file carries no date: its SHA-256 is recorded.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The operations the fake answers ("METHOD /openapi/path"). Add one here when the fake learns it. */
const SERVED = [
  "GET /gateway/bot",
  "GET /users/@me",
  "GET /users/{user_id}",
  "GET /applications/@me",
  "GET /applications/{application_id}/commands",
  "PUT /applications/{application_id}/commands",
  "GET /applications/{application_id}/guilds/{guild_id}/commands",
  "PUT /applications/{application_id}/guilds/{guild_id}/commands",
  "POST /interactions/{interaction_id}/{interaction_token}/callback",
  "POST /webhooks/{webhook_id}/{webhook_token}",
  "GET /webhooks/{webhook_id}/{webhook_token}/messages/@original",
  "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
  "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original",
  "GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
  "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
  "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
  "GET /channels/{channel_id}",
  "GET /channels/{channel_id}/messages",
  "POST /channels/{channel_id}/messages",
  "GET /channels/{channel_id}/messages/{message_id}",
  "PATCH /channels/{channel_id}/messages/{message_id}",
  "DELETE /channels/{channel_id}/messages/{message_id}",
  "POST /channels/{channel_id}/typing",
  "POST /users/@me/channels",
];

const source = process.argv[2];
if (!source) {
  process.stderr.write("usage: node trim-spec.mjs <path to the upstream discord-api-spec specs/openapi.json>\n");
  process.exit(2);
}
const text = readFileSync(source, "utf8");
const full = JSON.parse(text);
const schemas = full.components.schemas;
const nameOf = (ref) => ref.split("/").pop();
const resolve = (schema) => (schema?.$ref ? schemas[nameOf(schema.$ref)] : schema);

/** Copies a schema without descriptions, collecting the component schemas it refers to. */
function strip(node, reached) {
  if (Array.isArray(node)) return node.map((item) => strip(item, reached));
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "description") continue;
    if (key === "$ref") reached.add(nameOf(value));
    // `properties` maps names to schemas: a property may be called "description".
    out[key] = key === "properties" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v, reached)])) : strip(value, reached);
  }
  return out;
}

/** The keys every success answer carries: `required` of the schema (of its items for arrays; shared by all branches of a oneOf). */
function answerRequires(schema) {
  let s = resolve(schema);
  if (!s) return [];
  if ((s.type === "array" || (Array.isArray(s.type) && s.type.includes("array"))) && s.items) s = resolve(s.items);
  if (s.oneOf) {
    const branches = s.oneOf.map((b) => resolve(b)?.required ?? []);
    return branches[0].filter((key) => branches.every((b) => b.includes(key)));
  }
  return s.required ?? [];
}

const reached = new Set();
const operations = {};
for (const served of SERVED) {
  const [method, path] = served.split(" ");
  const item = full.paths[path];
  const operation = item?.[method.toLowerCase()];
  if (!operation) throw new Error(`${served} is not in the spec`);
  const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((p) => ({
    name: p.name,
    in: p.in,
    ...(p.required ? { required: true } : {}),
    schema: strip(p.schema, reached),
  }));
  const body = operation.requestBody?.content?.["application/json"]?.schema;
  const success = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
  operations[served] = {
    operationId: operation.operationId,
    parameters,
    ...(body ? { body: strip(body, reached) } : {}),
    ...(operation.requestBody?.required ? { bodyRequired: true } : {}),
    security: (operation.security ?? []).map((s) => Object.keys(s)[0] ?? "none"),
    success: success.map(([status]) => Number(status)),
    answerRequires: answerRequires(success.find(([, r]) => r.content)?.[1].content["application/json"]?.schema),
  };
}

// The closure of the schemas the served operations reach.
const kept = {};
const queue = [...reached];
while (queue.length > 0) {
  const name = queue.pop();
  if (kept[name]) continue;
  const more = new Set();
  kept[name] = strip(schemas[name], more);
  for (const next of more) if (!kept[next]) queue.push(next);
}

const others = [];
for (const [path, item] of Object.entries(full.paths)) {
  for (const method of Object.keys(item)) {
    if (method === "parameters") continue;
    const key = `${method.toUpperCase()} ${path}`;
    if (!SERVED.includes(key)) others.push(key);
  }
}

const trimmed = {
  source: "https://github.com/discord/discord-api-spec (specs/openapi.json), MIT licence; trimmed by trim-spec.mjs",
  title: full.info.title,
  version: full.info.version,
  license: full.info.license?.name ?? "unknown",
  sha256: createHash("sha256").update(text).digest("hex"),
  operations,
  schemas: Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b))),
  otherOperations: others.sort(),
};
const out = fileURLToPath(new URL("./discord-openapi.trimmed.json", import.meta.url));
writeFileSync(out, `${JSON.stringify(trimmed, null, 1)}\n`);
process.stdout.write(`wrote ${out}: ${SERVED.length} operations served, ${Object.keys(kept).length} schemas, ${others.length} other operations (${full.info.title}, version ${full.info.version})\n`);
