import type { Address, Session } from "../model.ts";
import type { Host, Task } from "../port/index.ts";
import type { ApiUser } from "./auth.ts";
import { notFound } from "./errors.ts";
import type { IdempotencyKeys } from "./idempotency.ts";

/** What every route gets: the engine's port, the platform name its sessions carry (`web`), the caller. */
export interface ApiEnv {
  Variables: { user: ApiUser };
}

export interface ApiDeps {
  host: Host;
  /** The platform of sessions made over the API (the web adapter's name). */
  platform: string;
  /** Idempotency-Keys, scoped by user and route (one instance per API: it serializes retries). */
  idempotency: IdempotencyKeys;
}

/**
 * Who may see what: a user sees the sessions they own on the API's platform and the tasks they
 * started or that run in those sessions; reviewers see everything. What a user may not see is
 * answered 404, as if it did not exist.
 */
export function maySeeSession(deps: ApiDeps, user: ApiUser, session: Session): boolean {
  return user.reviewer || (session.platform === deps.platform && session.owner === user.id);
}

export async function visibleSession(deps: ApiDeps, user: ApiUser, id: string): Promise<Session> {
  const session = await deps.host.sessions.get(id);
  if (!session || !maySeeSession(deps, user, session)) throw notFound(`session ${id}`);
  return session;
}

export async function visibleTask(deps: ApiDeps, user: ApiUser, id: string): Promise<Task> {
  const task = await deps.host.tasks.get(id);
  if (!task) throw notFound(`task ${id}`);
  if (user.reviewer || task.owner === user.id) return task;
  const session = await deps.host.sessions.get(task.sessionId);
  if (!session || !maySeeSession(deps, user, session)) throw notFound(`task ${id}`);
  return task;
}

/** The address the user writes from in a session (a web session is a direct chat with the bot). */
export function addressIn(session: Session, user: ApiUser): Address {
  return {
    platform: session.platform,
    channel: session.channel,
    ...(session.thread ? { thread: session.thread } : {}),
    user: user.id,
    direct: session.owner === user.id,
  };
}
