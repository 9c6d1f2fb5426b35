import { describe, expect, it } from "vitest";
import { cycles, importGraph } from "./import-graph.ts";

/**
 * The layering the design promises, checked on the import graph (type imports included):
 * the edges — every adapter and the HTTP API — reach the engine only through its port; only
 * the composition root knows both sides; and no files import each other in a circle.
 */
const graph = importGraph();

/** What an edge may import from src/: the port, the model, the errors and the logger. */
const ENGINE_SURFACE = /^src\/(port\/.*|model\.ts|errors\.ts|logger\.ts)$/;
/** The composition root: the only files that know which adapters exist and what the engine is. */
const COMPOSITION_ROOT = new Set(["src/app.ts", "src/adapter-table.ts", "src/cli.ts"]);

const isEdge = (file: string) => file.startsWith("adapters/") || file.startsWith("src/api/");
/** Another edge an edge may build on: the web adapter serves the HTTP API. */
const mayUseEdge = (file: string, target: string) => file.startsWith("adapters/web/") && target === "src/api/index.ts";

describe("layering", () => {
  it("reads the source", () => {
    expect(graph.size).toBeGreaterThan(100);
  });

  it("adapters and the HTTP API import from src/ only the port, the model, the errors and the logger", () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      if (!isEdge(file)) continue;
      const own = file.startsWith("src/api/") ? "src/api/" : file.split("/").slice(0, 2).join("/") + "/";
      for (const target of targets) {
        if (target.startsWith(own) || ENGINE_SURFACE.test(target) || mayUseEdge(file, target)) continue;
        wrong.push(`${file} → ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("only the composition root imports adapters/", () => {
    const wrong = [...graph].flatMap(([file, targets]) => (file.startsWith("src/") && !COMPOSITION_ROOT.has(file) ? targets.filter((t) => t.startsWith("adapters/")).map((t) => `${file} → ${t}`) : []));
    expect(wrong).toEqual([]);
  });

  it("the port imports nothing of the engine's machinery (only leaf modules), so it can't close a circle", () => {
    const wrong = [...graph].flatMap(([file, targets]) => (file.startsWith("src/port/") ? targets.filter((t) => /^src\/(app|engine|tasks\/runner|scheduler|api|store\/lowdb)/.test(t)).map((t) => `${file} → ${t}`) : []));
    expect(wrong).toEqual([]);
  });

  it("has no import cycle (37 files were in one before the port)", () => {
    expect(cycles(graph)).toEqual([]);
  });
});
