import { appRoutes } from "./rest-app.ts";
import { channelRoutes } from "./rest-channels.ts";
import { interactionRoutes } from "./rest-interactions.ts";
import type { Route } from "./rest.ts";

/**
 * The REST routes the fake serves (under `/api/v10`) and their matcher. Templates name their
 * parameters (`:channel`, `:message`, `:app`, `:token`, `:id`, `:guild`, `:user`); literal
 * segments (`@me`, `@original`) win over parameters.
 */

export const ROUTES: Route[] = [...appRoutes, ...channelRoutes, ...interactionRoutes];

/** The route serving a method and path (after `/api/v10`), with its parameters. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split("/").filter((s) => s !== "").map((s) => safeDecode(s));
  let best: { route: Route; params: Record<string, string>; literals: number } | undefined;
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const parts = route.template.split("/").filter((s) => s !== "");
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const fits = parts.every((part, i) => {
      if (part.startsWith(":")) return (params[part.slice(1)] = segments[i]!) !== "" && !segments[i]!.startsWith("@");
      literals++;
      return part === segments[i];
    });
    if (fits && (!best || literals > best.literals)) best = { route, params, literals };
  }
  return best && { route: best.route, params: best.params };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The bucket's major parameter of a call: its channel, guild, webhook id + token or interaction, else the route alone. */
export function majorOf(params: Record<string, string>): string {
  if (params.channel) return `channel ${params.channel}`;
  if (params.token) return `${params.app ?? params.id} ${params.token}`;
  if (params.guild) return `guild ${params.guild}`;
  return "global";
}
