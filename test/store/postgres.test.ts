import { afterAll } from "vitest";
import { storeContract } from "./contract.ts";
import { dropDatabase, postgresHarness } from "./postgres-harness.ts";
import { scheduleContract } from "./schedule-contract.ts";

afterAll(() => dropDatabase());

storeContract("postgres", postgresHarness);
scheduleContract("postgres", postgresHarness);
