import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import { makeUnwritable, makeWritable, tempDir, useTempFiles } from "../store/fixtures/files.ts";
import { eventually } from "../helpers.ts";
import { useWebBots } from "./web-setup.ts";

/**
 * A store that can't write loses nothing silently: a message it could not keep is refused
 * (503 over HTTP, a sentence in the conversation), /healthz says the store is failing, and
 * once writes work again everything goes on. A real failure on real files: the history
 * directory made unwritable (chmod, or the immutable attribute as root), else replaced by a file.
 */
useTempFiles();
const start = useWebBots(afterEach);

async function breakDirectory(path: string): Promise<() => Promise<void>> {
  if (await makeUnwritable(path)) return () => makeWritable(path);
  await rename(path, `${path}.moved`);
  await writeFile(path, "not a directory");
  return async () => {
    await rm(path);
    await rename(`${path}.moved`, path);
  };
}

describe("a store that can't write", () => {
  it("refuses the message with 503, tells the person, reports it in /healthz, and recovers when writes work again", async () => {
    const dir = await tempDir();
    const w = await start({ store: createLowdbStore({ dir, logger: { warn: () => {} } }) });
    const session = async () => (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id as string;
    const kept = await session();
    expect((await w.call("POST", `/api/v1/sessions/${kept}/messages`, { body: { text: "/help" } })).status).toBe(202);
    expect((await w.call("GET", "/healthz", { as: null })).status).toBe(200);

    const restore = await breakDirectory(join(dir, "history"));
    const lost = await session();
    const refused = await w.call("POST", `/api/v1/sessions/${lost}/messages`, { body: { text: "/help" } });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: "store_unavailable", message: expect.stringMatching(/history file .*\.jsonl \((EACCES|EPERM|ENOTDIR)/) });
    // The message is not shown as if it had arrived, and the person is told.
    expect((await w.call("GET", `/api/v1/sessions/${lost}/messages`)).body.items).toEqual([]);
    await eventually(
      async () => (await w.store.readFeed({ sessionId: lost })).some((e) => e.type === "reply" && /couldn't save that, so it was not received/.test(JSON.stringify(e.data))),
      5000,
      "the person told in the conversation",
    );
    const health = await w.call("GET", "/healthz", { as: null });
    expect(health.status).toBe(503);
    expect(health.body.store).toMatchObject({ ok: false, error: expect.stringMatching(/history file/) });

    await restore();
    expect((await w.call("POST", `/api/v1/sessions/${lost}/messages`, { body: { text: "/help" } })).status).toBe(202);
    await eventually(async () => (await w.call("GET", "/healthz", { as: null })).status === 200, 5000, "/healthz back to 200 after a write went through");
    expect((await w.call("GET", `/api/v1/sessions/${lost}/messages`)).body.items.map((m: { text: string }) => m.text)[0]).toBe("/help");
  });
});
