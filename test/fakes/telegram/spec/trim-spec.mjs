#!/usr/bin/env node
/**
 * Regenerates telegram-api.trimmed.json from the full upstream spec:
 *
 *   node test/fakes/telegram/spec/trim-spec.mjs <path to upstream api.json>
 *
 * Upstream: https://github.com/PaulSonOfLars/telegram-bot-api-spec (api.json), MIT licence.
 * Keeps what the fake Bot API server validates: the methods it serves (with their fields),
 * the names of every other method (so a call to one is reported as "not implemented by the
 * fake", not "no such method"), and every type reachable from those methods and from Update.
 * Descriptions and links are dropped; names, types and `required` are kept verbatim.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The methods test/fakes/telegram/server.ts answers. Add one here when the fake learns it. */
const SERVED = [
  "getUpdates", "getMe", "deleteWebhook", "setWebhook", "getWebhookInfo", "setMyCommands", "getMyCommands",
  "sendChatAction", "close", "logOut", "answerCallbackQuery", "sendMessage", "editMessageText",
];
/** Types the fake validates directly (updates it delivers). */
const ROOTS = ["Update"];
const PRIMITIVES = new Set(["Integer", "Float", "String", "Boolean", "InputFile"]);

const source = process.argv[2];
if (!source) {
  process.stderr.write("usage: node trim-spec.mjs <path to the upstream api.json>\n");
  process.exit(2);
}
const full = JSON.parse(readFileSync(source, "utf8"));
const slim = (entry) => ({
  name: entry.name,
  ...(entry.fields ? { fields: entry.fields.map((f) => ({ name: f.name, types: f.types, required: f.required })) } : {}),
  ...(entry.subtypes ? { subtypes: entry.subtypes } : {}),
});

const types = new Map();
const visit = (typeName) => {
  const name = typeName.replace(/^(Array of )+/, "");
  if (PRIMITIVES.has(name) || types.has(name)) return;
  const entry = full.types[name];
  if (!entry) throw new Error(`type ${name} is referenced but not in the spec`);
  types.set(name, slim(entry));
  for (const field of entry.fields ?? []) field.types.forEach(visit);
  (entry.subtypes ?? []).forEach(visit);
};

const methods = {};
for (const name of SERVED) {
  const entry = full.methods[name];
  if (!entry) throw new Error(`method ${name} is not in the spec`);
  methods[name] = slim(entry);
  for (const field of entry.fields ?? []) field.types.forEach(visit);
}
ROOTS.forEach(visit);

const trimmed = {
  source: "https://github.com/PaulSonOfLars/telegram-bot-api-spec (api.json), MIT licence; trimmed by trim-spec.mjs",
  version: full.version,
  release_date: full.release_date,
  methods,
  otherMethods: Object.keys(full.methods).filter((name) => !SERVED.includes(name)).sort(),
  types: Object.fromEntries([...types.entries()].sort(([a], [b]) => a.localeCompare(b))),
};
const out = fileURLToPath(new URL("./telegram-api.trimmed.json", import.meta.url));
writeFileSync(out, `${JSON.stringify(trimmed, null, 1)}\n`);
process.stdout.write(`wrote ${out}: ${Object.keys(methods).length} methods, ${types.size} types (${full.version})\n`);
