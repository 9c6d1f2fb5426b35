import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * chatflow's version, from the nearest package.json named `chatflow` above this file: the
 * repository's when run from source, the installed package's when run from dist/.
 */
export function chatflowVersion(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "chatflow" && pkg.version) return (cached = pkg.version);
    } catch {
      // No package.json here: look further up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) return (cached = "unknown");
    dir = parent;
  }
}
