import type { Config } from "../config/schema.ts";

export interface ResolvedRoute {
  /** Workflow for plain messages, or null when plain messages aren't routed. */
  message: string | null;
  /** Command name → workflow name. */
  commands: Record<string, string>;
}

/** The routes of one adapter: its own entry over `default`. */
export function routeFor(routes: Config["routes"], platform: string): ResolvedRoute {
  const base = routes.default ?? {};
  const own = routes[platform] ?? {};
  return {
    message: own.message !== undefined ? own.message : (base.message ?? null),
    commands: { ...(base.commands ?? {}), ...(own.commands ?? {}) },
  };
}

/** Every workflow name the routes mention, for validation at start. */
export function routedWorkflows(routes: Config["routes"]): string[] {
  const names = new Set<string>();
  for (const route of Object.values(routes)) {
    if (route.message) names.add(route.message);
    for (const workflow of Object.values(route.commands ?? {})) names.add(workflow);
  }
  return [...names];
}
