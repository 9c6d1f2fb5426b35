import { describe, expect, it } from "vitest";
import { derivedId, newId } from "../../src/ids.ts";

describe("ids", () => {
  it("newId: url-safe, the asked length, unique across pool refills and mixed sizes", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const bytes = [4, 8, 12, 16][i % 4]!;
      const id = newId(bytes);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(id.length).toBe(Math.ceil((bytes * 4) / 3));
      seen.add(id);
    }
    expect(seen.size).toBe(50_000);
    expect(newId(5000)).toHaveLength(Math.ceil((5000 * 4) / 3));
  });

  it("derivedId: the same key gives the same id", () => {
    expect(derivedId("t-", "telegram:42")).toBe(derivedId("t-", "telegram:42"));
    expect(derivedId("t-", "telegram:42")).not.toBe(derivedId("t-", "telegram:43"));
  });
});
