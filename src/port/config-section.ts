import type { z } from "zod";
import { ConfigError } from "../errors.ts";

/**
 * Helpers for an adapter's own configuration section, shared by every adapter: validation
 * with errors that name the field under `adapters.<name>`, and URLs read from the environment.
 */
/**
 * Validates one section of the configuration (an adapter's, say) with its own schema. Errors
 * name each field under `where`, e.g. `adapters.console.channel: expected string`.
 */
export function parseSection<S extends z.ZodType>(schema: S, section: unknown, where: string): z.output<S> {
  const result = schema.safeParse(section ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${[where, ...issue.path.map(String)].join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration of ${where}:\n${lines.join("\n")}`);
  }
  return result.data;
}

/**
 * An http(s) base URL from the environment (an API root, a proxy, a test server): the value
 * trimmed, or undefined when unset or empty. Errors name the variable and show an example.
 */
export function parseHttpUrl(value: string | undefined, name: string, example: string): string | undefined {
  const raw = value?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL such as ${example}, got ${JSON.stringify(raw)}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(`${name} must be an http(s) URL such as ${example}, got the protocol ${url.protocol}`);
  return raw;
}
