#!/usr/bin/env node
// `chatflow`: runs the built CLI, dist/src/cli.js (plain JavaScript, no tsx). The published
// package always holds it (prepack builds); in a source checkout run `npm run build` first,
// or run the sources with `npm start`.
import { existsSync } from "node:fs";

const cli = new URL("../dist/src/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("chatflow: dist/ is missing: run `npm run build` first (or `npm start` to run from source).\n");
  process.exit(1);
}
await import(cli.href);
