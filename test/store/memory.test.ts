import { expect, it } from "vitest";
import { createMemoryStore } from "../../src/store/memory.ts";
import { storeContract } from "./contract.ts";
import { scheduleContract } from "./schedule-contract.ts";

const memoryHarness = async () => {
  const store = createMemoryStore();
  await store.open();
  return { store, cleanup: () => store.close() };
};
storeContract("memory", memoryHarness);
scheduleContract("memory", memoryHarness);

it("memory store is not exclusive", () => {
  expect(createMemoryStore().exclusive).toBe(false);
});
