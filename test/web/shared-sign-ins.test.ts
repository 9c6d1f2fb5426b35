import { afterAll, afterEach, expect, it } from "vitest";
import { Limits } from "../../src/api/limits.ts";
import { dropDatabase, freshSchema, openPostgres, type PostgresStore } from "../store/postgres-harness.ts";

/**
 * Failed sign-ins on two instances sharing one PostgreSQL database: guesses spread over them
 * meet one limit. Each instance checks its own memory on every request and learns the shared
 * count at its next failure.
 */
const stores: PostgresStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => dropDatabase());

it("guesses spread over two instances meet one limit; every request's check stays in memory", async () => {
  const schema = freshSchema();
  const [a, b] = [await openPostgres(schema), await openPostgres(schema)];
  stores.push(a, b);
  const settings = { requestsPerMinute: 100, failedSignInsPerMinute: 3 };
  const onA = new Limits(settings, (o) => a.limiter(o));
  const onB = new Limits(settings, (o) => b.limiter(o));
  const address = "203.0.113.7";
  await onA.signInFailed(address);
  await onA.signInFailed(address);
  await expect(onA.signInAllowed(address)).resolves.toBeUndefined();
  // The third guess, on the other instance: the shared count is at the limit there.
  await onB.signInFailed(address);
  await expect(onB.signInAllowed(address)).rejects.toMatchObject({ status: 429 });
  // The first instance learns it at its next failure.
  await onA.signInFailed(address);
  await expect(onA.signInAllowed(address)).rejects.toMatchObject({ status: 429 });
  // Another address is not affected.
  await expect(onB.signInAllowed("198.51.100.2")).resolves.toBeUndefined();
});
