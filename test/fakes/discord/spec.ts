import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SchemaChecker, type Problem, type Schema } from "./schema.ts";

/**
 * Discord's OpenAPI spec (discord/discord-api-spec, "Discord HTTP API (Preview)", v10, MIT),
 * vendored trimmed in ./spec (see its README): the request body and query of every served
 * operation are checked against it, and the fake's own success answers against the keys it
 * requires. Discord's documented limits the spec doesn't express are in limits.ts.
 */

export interface Operation {
  operationId: string;
  parameters: Array<{ name: string; in: "path" | "query"; required?: boolean; schema: Schema }>;
  body?: Schema;
  security: string[];
  success: number[];
  answerRequires: string[];
}

interface Trimmed {
  title: string;
  version: string;
  license: string;
  sha256: string;
  operations: Record<string, Operation>;
  schemas: Record<string, Schema>;
  otherOperations: string[];
}

/** The spec: DISCORD_OPENAPI_SPEC (a file written by trim-spec.mjs) or the copy beside this file. */
export const SPEC_FILE = process.env.DISCORD_OPENAPI_SPEC ?? fileURLToPath(new URL("./spec/discord-openapi.trimmed.json", import.meta.url));

/**
 * Fields discord.js 14.28 puts in every message payload (MessagePayload#resolveBody) that the
 * spec doesn't list for these operations; Discord ignores them, so the fake does too.
 */
const SENT_BY_DISCORD_JS: Record<string, string[]> = {
  "POST /webhooks/{webhook_id}/{webhook_token}": ["nonce", "enforce_nonce"],
  "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original": ["tts", "nonce", "enforce_nonce"],
  "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}": ["tts", "nonce", "enforce_nonce"],
  "PATCH /channels/{channel_id}/messages/{message_id}": ["tts", "nonce", "enforce_nonce"],
  "POST /interactions/{interaction_id}/{interaction_token}/callback": ["data.tts", "data.nonce", "data.enforce_nonce"],
};

/** A `{param}` template of the spec as a regular expression over a path. */
const pattern = (path: string): RegExp => new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);

export class DiscordSpec {
  readonly #spec: Trimmed;
  readonly #checker: SchemaChecker;
  readonly #others: Array<{ method: string; pattern: RegExp }>;

  constructor(file = SPEC_FILE) {
    this.#spec = JSON.parse(readFileSync(file, "utf8")) as Trimmed;
    this.#checker = new SchemaChecker(this.#spec.schemas);
    this.#others = this.#spec.otherOperations.map((key) => {
      const [method, path] = key.split(" ") as [string, string];
      return { method, pattern: pattern(path) };
    });
  }

  /** e.g. "Discord HTTP API (Preview) 10 (MIT)". */
  get version(): string {
    return `${this.#spec.title} ${this.#spec.version} (${this.#spec.license})`;
  }

  /** A served operation by its key, e.g. `POST /channels/{channel_id}/messages`. */
  operation(key: string): Operation | undefined {
    return this.#spec.operations[key];
  }

  /** Whether Discord has an operation for this method and path (one the fake doesn't serve). */
  knows(method: string, path: string): boolean {
    return this.#others.some((o) => o.method === method && o.pattern.test(path));
  }

  /** Problems of a JSON body (unknown fields flagged `unknown`, except those discord.js always sends). */
  checkBody(key: string, body: unknown): Problem[] {
    const operation = this.#spec.operations[key];
    if (!operation?.body) return body === undefined ? [] : [{ path: "", code: "BASE_TYPE_BAD_TYPE", message: "This route takes no body.", unknown: true }];
    if (body === undefined) return [{ path: "", code: "BASE_TYPE_REQUIRED", message: "This route needs a JSON body." }];
    const tolerated = new Set(SENT_BY_DISCORD_JS[key] ?? []);
    return this.#checker.check(body, operation.body).filter((p) => !(p.unknown && tolerated.has(p.path)));
  }

  /** Problems of the query string: unknown parameters, and values that don't parse as the spec's type. */
  checkQuery(key: string, query: Record<string, string>): Problem[] {
    const operation = this.#spec.operations[key];
    const problems: Problem[] = [];
    for (const [name, raw] of Object.entries(query)) {
      const param = operation?.parameters.find((p) => p.in === "query" && p.name === name);
      if (!param) {
        problems.push({ path: name, code: "UNKNOWN_FIELD", message: "Not a query parameter of this route in the spec.", unknown: true });
        continue;
      }
      const schema = this.#checker.resolve(param.schema);
      const value = schema.type === "boolean" ? (raw === "true" ? true : raw === "false" ? false : raw) : schema.type === "integer" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      problems.push(...this.#checker.check(value, param.schema, name));
    }
    return problems;
  }

  /** Keys a success answer of the operation lacks (a self-check of the fake's answers). */
  missingAnswerKeys(key: string, answer: unknown): string[] {
    const required = this.#spec.operations[key]?.answerRequires ?? [];
    const items = Array.isArray(answer) ? answer : [answer];
    return required.filter((name) => items.some((item) => item === null || typeof item !== "object" || !(name in item)));
  }
}
