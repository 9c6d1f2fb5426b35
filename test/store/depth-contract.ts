/** The Store contract for records nested too deep to keep (see src/store/json-depth.ts; harness in contract.ts). */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChatflowError } from "../../src/errors.ts";
import type { Store } from "../../src/store/port.ts";
import { message, T0, task, type StoreHarness } from "./contract.ts";

/** `levels` arrays inside each other: [[[…]]]. */
const nested = (levels: number): unknown => JSON.parse("[".repeat(levels) + "]".repeat(levels));

/** Expects `write` to be refused for its nesting, as a sentence. */
async function tooDeep(write: Promise<unknown>): Promise<void> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatflowError);
  expect((error as ChatflowError).code).toBe("validation");
  expect((error as Error).message).toMatch(/was not stored: its data nests more than 64 levels deep/);
}

export function depthContract(name: string, make: () => Promise<StoreHarness>): void {
  describe(`Store contract, nesting: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });
    const reopen = async () => {
      if (!h.reopen) return;
      await store.close();
      store = await h.reopen();
    };

    it("refuses a record nested more than 64 levels below it with a sentence, storing nothing; 64 levels are kept", async () => {
      // An input of 64 arrays inside each other nests 64 levels below the task.
      await store.createTask(task("ok", { input: nested(64) }));
      expect((await store.getTask("ok"))!.input).toEqual(nested(64));
      await tooDeep(store.createTask(task("deep", { input: nested(65) })));
      await tooDeep(store.createTask(task("deeper", { input: nested(4_000) })));
      expect(await store.getTask("deep")).toBeUndefined();
      await tooDeep(store.updateTask("ok", { result: { text: "x", links: nested(10_000) as never } }));
      expect((await store.getTask("ok"))!.rev).toBe(1);
      await tooDeep(store.appendJournal("ok", "k", { value: nested(5_000), at: T0 }));
      expect((await store.getJournal("ok")).size).toBe(0);
      await tooDeep(store.appendMessage(message("s1", 0, { links: nested(200) as never })));
      expect(await store.listMessages("s1", 5)).toEqual([]);
      await tooDeep(store.appendFeedEvents([{ type: "x", sessionId: "s1", at: T0, data: nested(100) }]));
      expect(await store.readFeed()).toEqual([]);
      await reopen();
      expect((await store.getTask("ok"))!.input).toEqual(nested(64));
      expect(await store.getTask("deep")).toBeUndefined();
    });
  });
}
