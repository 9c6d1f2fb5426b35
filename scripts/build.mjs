#!/usr/bin/env node
// `npm run build`: compiles src/ and adapters/ to dist/ (JavaScript and .d.ts) with tsc and
// tsconfig.build.json, then copies config/ to dist/config/ so the built
// src/config/load.js finds the default configuration at the same relative path
// (`../../config/chatflow.yaml`) as the sources do.
import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = path.join(root, "dist");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  process.stderr.write(`build: tsc failed (${result.status ?? result.signal})\n`);
  process.exit(1);
}

// tsc rewrites `./x.ts` to `./x.js` in the JavaScript but leaves declaration files as written
// (microsoft/TypeScript#61037). TypeScript itself reads them either way; other tools and older
// TypeScript versions want the `.js` specifier that matches the file next to the .d.ts.
const relativeTs = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
  const file = path.join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(relativeTs, "$1$2.js$3");
  if (rewritten !== text) writeFileSync(file, rewritten);
}

cpSync(path.join(root, "config"), path.join(dist, "config"), { recursive: true });
// The web chat page is served from files next to the web adapter.
cpSync(path.join(root, "adapters", "web", "page"), path.join(dist, "adapters", "web", "page"), { recursive: true });
