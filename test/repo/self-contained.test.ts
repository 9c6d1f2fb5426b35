import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * A fresh clone must run its tests with nothing beside it: no file may point outside the
 * repository (a relative import or `new URL(…, import.meta.url)` climbing out of it), and no
 * file may name a path on a developer's machine.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter((file) => /\.(ts|mts|mjs|js|json|md|yaml|yml)$/.test(file) && !file.endsWith("package-lock.json"));

/** Relative specifiers in import/export/import()/new URL(). */
const SPECIFIER = /(?:from\s+|import\s*\(\s*|new URL\(\s*)["'](\.\.?\/[^"']+)["']/g;
/** Absolute paths of a machine (home directories, the CI workspace, temp dirs). */
const MACHINE_PATH = /(?<![\w.:/-])\/(?:work|home|root|Users|mnt)\/[\w.-]+/;

describe("the repository is self-contained", () => {
  it("lists its files", () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it("has no relative path that leaves the repository", () => {
    const escaping: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(root, file), "utf8");
      for (const match of text.matchAll(SPECIFIER)) {
        const target = path.resolve(root, path.dirname(file), match[1]!);
        if (path.relative(root, target).startsWith("..")) escaping.push(`${file}: ${match[1]}`);
      }
    }
    expect(escaping).toEqual([]);
  });

  it("names no path on a developer's machine", () => {
    const named = files.filter((file) => MACHINE_PATH.test(readFileSync(path.join(root, file), "utf8")));
    expect(named).toEqual([]);
  });
});
