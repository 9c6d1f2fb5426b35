import { expect, it } from "vitest";
import { createMemoryStore } from "../../src/store/memory.ts";
import { storeContract } from "./contract.ts";

storeContract("memory", async () => {
  const store = createMemoryStore();
  await store.open();
  return { store, cleanup: () => store.close() };
});

it("memory store is not exclusive", () => {
  expect(createMemoryStore().exclusive).toBe(false);
});
