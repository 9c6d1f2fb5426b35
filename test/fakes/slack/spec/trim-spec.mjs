#!/usr/bin/env node
/**
 * Regenerates slack-web-api.trimmed.json from the full upstream Web API spec:
 *
 *   node test/fakes/slack/spec/trim-spec.mjs <path to upstream web-api/slack_web_openapi_v2.json>
 *
 * Upstream: https://github.com/slackapi/slack-api-specs (web-api/slack_web_openapi_v2.json,
 * Swagger 2.0), MIT licence. Keeps what the fake Web API (../web-api.ts) validates against:
 * for each method it serves, the parameters (name, where, type, required) and the keys the
 * success answer must carry; the names of every other method (a call to one is "not served
 * by the fake", not "no such method"). Descriptions, examples and error lists are dropped.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The spec methods test/fakes/slack/web-api.ts answers. Add one here when the fake learns it. */
const SERVED = [
  "auth.test", "chat.postMessage", "chat.update", "chat.postEphemeral", "chat.delete", "chat.getPermalink",
  "views.open", "views.update", "conversations.history", "conversations.replies", "conversations.info", "conversations.open",
  "reactions.add", "users.info",
];

const source = process.argv[2];
if (!source) {
  process.stderr.write("usage: node trim-spec.mjs <path to the upstream slack_web_openapi_v2.json>\n");
  process.exit(2);
}
const full = JSON.parse(readFileSync(source, "utf8"));
const methodOf = (path) => path.replace(/^\//, "");

const methods = {};
for (const name of SERVED) {
  const path = full.paths[`/${name}`];
  if (!path) throw new Error(`method ${name} is not in the spec`);
  const [verb, operation] = Object.entries(path)[0];
  methods[name] = {
    verb,
    params: (operation.parameters ?? []).map((p) => ({ name: p.name, in: p.in, type: p.type, ...(p.required ? { required: true } : {}) })),
    answerRequires: operation.responses?.["200"]?.schema?.required ?? ["ok"],
  };
}

const trimmed = {
  source: "https://github.com/slackapi/slack-api-specs (web-api/slack_web_openapi_v2.json), MIT licence; trimmed by trim-spec.mjs",
  title: full.info.title,
  version: full.info.version,
  methods,
  otherMethods: Object.keys(full.paths).map(methodOf).filter((name) => !SERVED.includes(name)).sort(),
};
const out = fileURLToPath(new URL("./slack-web-api.trimmed.json", import.meta.url));
writeFileSync(out, `${JSON.stringify(trimmed, null, 1)}\n`);
process.stdout.write(`wrote ${out}: ${Object.keys(methods).length} methods served, ${trimmed.otherMethods.length} others (${full.info.title} ${full.info.version})\n`);
