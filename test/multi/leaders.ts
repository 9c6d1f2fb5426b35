/**
 * What the leader tests (Telegram polling, the Discord gateway) ask of the instances: who leads
 * a connection, as each live instance's /healthz says, and when every task is stored as
 * completed (a leader is killed only then: a kill between a post and its record may post
 * twice, as the README says, and that window is not what these tests are about).
 */
import pg from "pg";
import type { Platform } from "./platform.ts";

export interface InstanceHealth {
  instance: { id: string; leads: string[] };
  adapters: Record<string, { connected: boolean }>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The ids of the live instances that lead a connection whose name starts with `prefix`; `each` sees every health. */
export async function leadersOf(platform: Platform, prefix: string, each?: (health: InstanceHealth) => void): Promise<string[]> {
  const leads: string[] = [];
  for (const instance of platform.live()) {
    const health = (await (await fetch(`${instance.url}/healthz`)).json()) as InstanceHealth;
    each?.(health);
    if (health.instance.leads.some((name) => name.startsWith(prefix))) leads.push(health.instance.id);
  }
  return leads;
}

/** Resolves once the database holds no task that is not completed (30 s at most). */
export async function allTasksCompleted(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (let i = 0; (await client.query("SELECT count(*)::int AS n FROM chatflow.tasks WHERE status <> 'completed'")).rows[0].n > 0; i++) {
      if (i > 600) throw new Error("the tasks were never all stored as completed");
      await sleep(50);
    }
  } finally {
    await client.end();
  }
}
