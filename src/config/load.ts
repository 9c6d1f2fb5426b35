import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { configSchema, type Config, type ConfigInput } from "./schema.ts";

/**
 * The documented default configuration shipped with chatflow: config/chatflow.yaml from
 * src/config/load.ts, dist/config/chatflow.yaml from the built dist/src/config/load.js (the
 * build copies config/ there, so the same relative path works for both).
 */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL("../../config/chatflow.yaml", import.meta.url));

/** Formats zod issues as `field.path: what was expected` lines. */
export function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      return `  ${field}: ${issue.message}`;
    })
    .join("\n");
}

export { parseSection, parseHttpUrl } from "../port/config-section.ts";

/** Validates a configuration object; `source` names where it came from in error messages. */
export function parseConfig(input: unknown, source = "configuration"): Config {
  const llm = (input as { llm?: unknown } | null | undefined)?.llm;
  const secret = llm && typeof llm === "object" ? ["apiKey", "api_key", "key", "token"].find((key) => key in llm) : undefined;
  if (secret) throw new ConfigError(`Invalid configuration in ${source}:\n  llm.${secret}: secrets never go in the configuration file; remove it and set LLM_API_KEY in the environment.`);
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(`Invalid configuration in ${source}:\n${describeIssues(result.error.issues)}`);
  }
  return result.data;
}

/**
 * Loads and validates a YAML configuration file. Without `file`, uses `CHATFLOW_CONFIG`
 * from the environment, then the default file. Relative paths resolve against `cwd`.
 */
export async function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<Config> {
  // An empty CHATFLOW_CONFIG (e.g. `CHATFLOW_CONFIG= chatflow start`) means unset.
  const fromEnv = env.CHATFLOW_CONFIG?.trim() || undefined;
  const chosen = file ?? fromEnv ?? DEFAULT_CONFIG_FILE;
  const resolved = path.resolve(cwd, chosen);
  const shown = path.relative(cwd, resolved) || resolved;
  let text: string;
  try {
    text = await readFile(resolved, "utf8");
  } catch (error) {
    const how = file ? "--config" : fromEnv ? "CHATFLOW_CONFIG" : "the default";
    throw new ConfigError(`Cannot read the configuration file ${shown} (from ${how}): ${(error as NodeJS.ErrnoException).code ?? String(error)}.`, { cause: error });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : "";
    throw new ConfigError(`The configuration file ${shown} is not valid YAML${where}: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
  return parseConfig(data, shown);
}

export type { Config, ConfigInput };
