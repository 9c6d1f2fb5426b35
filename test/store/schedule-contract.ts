/** The Store contract for schedules (see contract.ts for the harness). */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Schedule } from "../../src/store/records.ts";
import type { Store } from "../../src/store/port.ts";
import type { StoreHarness } from "./contract.ts";

export function schedule(id: string, over: Partial<Schedule> = {}): Schedule {
  return {
    id,
    rev: 1,
    cron: "0 9 * * *",
    timezone: "Europe/Berlin",
    target: { platform: "console", channel: "local", user: "alice" },
    text: "Stand-up in 5 minutes",
    enabled: true,
    missedPolicy: "skip",
    failures: 0,
    origin: "chat",
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...over,
  };
}

export function scheduleContract(name: string, make: () => Promise<StoreHarness>): void {
  describe(`Store contract, schedules: ${name}`, () => {
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

    it("creates, lists oldest first, gets copies, deletes", async () => {
      await store.createSchedule(schedule("b", { createdAt: 2 }));
      await store.createSchedule(schedule("a", { createdAt: 1 }));
      await expect(store.createSchedule(schedule("a"))).rejects.toThrow(/already exists/);
      await reopen();
      expect((await store.listSchedules()).map((s) => s.id)).toEqual(["a", "b"]);
      const got = (await store.getSchedule("a"))!;
      got.text = "changed";
      expect((await store.getSchedule("a"))!.text).toBe("Stand-up in 5 minutes");
      await store.deleteSchedule("a");
      await reopen();
      expect(await store.getSchedule("a")).toBeUndefined();
      expect((await store.listSchedules()).map((s) => s.id)).toEqual(["b"]);
    });

    it("updates conditionally on rev, so a slot is claimed once", async () => {
      await store.createSchedule(schedule("s"));
      const claims = await Promise.all([
        store.updateSchedule("s", { lastSlot: 100, pendingSlot: 100 }, { ifRev: 1 }),
        store.updateSchedule("s", { lastSlot: 100, pendingSlot: 100 }, { ifRev: 1 }),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      const done = await store.updateSchedule("s", { pendingSlot: undefined, failures: 0 });
      expect(done?.rev).toBe(3);
      expect(done && "pendingSlot" in done).toBe(false);
      await reopen();
      expect(await store.getSchedule("s")).toMatchObject({ rev: 3, lastSlot: 100 });
      expect(await store.updateSchedule("missing", { enabled: false })).toBeUndefined();
    });
  });
}
