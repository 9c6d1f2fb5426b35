import type { Json } from "./protocol.ts";

/**
 * A small JSON Schema checker for the subset Discord's OpenAPI 3.1 spec uses in request bodies:
 * $ref, type (one or a list), enum, const, properties, required, additionalProperties,
 * maxProperties, items, minItems, maxItems, uniqueItems, minLength, maxLength (in code points),
 * minimum, maximum, pattern, allOf, oneOf and anyOf (branches told apart by their `type` field,
 * as Discord's component and option unions are). Problems carry Discord's error codes and
 * wording (`BASE_TYPE_MAX_LENGTH`, "Must be 2000 or fewer in length."). A field the schema
 * doesn't list is reported as `unknown` (Discord ignores those; the fake flags them).
 */

export type Schema = Json;

export interface Problem {
  /** Where: `components[0].components[1].custom_id` (`""` for the body itself). */
  path: string;
  /** Discord's field error code, e.g. `BASE_TYPE_REQUIRED`, `BASE_TYPE_MAX_LENGTH`. */
  code: string;
  message: string;
  /** A field the schema doesn't know (not fatal: Discord ignores it). */
  unknown?: boolean;
}

const join = (path: string, key: string | number): string => (typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(value: unknown, wanted: string): boolean {
  const actual = typeOf(value);
  return actual === wanted || (wanted === "number" && actual === "integer");
}

const TYPE_ERRORS: Record<string, (value: unknown) => Omit<Problem, "path">> = {
  string: (v) => ({ code: "BASE_TYPE_STRING", message: `Could not interpret "${JSON.stringify(v)}" as string.` }),
  integer: (v) => ({ code: "NUMBER_TYPE_COERCE", message: `Value "${JSON.stringify(v)}" is not int.` }),
  number: (v) => ({ code: "NUMBER_TYPE_COERCE", message: `Value "${JSON.stringify(v)}" is not a number.` }),
  boolean: () => ({ code: "BASE_TYPE_BOOLEAN", message: "Must be either true or false." }),
  array: () => ({ code: "BASE_TYPE_ARRAY", message: "Must be an array." }),
  object: () => ({ code: "DICT_TYPE_CONVERT", message: "Only dictionaries may be used in a DictType" }),
  null: () => ({ code: "BASE_TYPE_NULL", message: "Must be null." }),
};

export class SchemaChecker {
  readonly #schemas: Record<string, Schema>;

  constructor(schemas: Record<string, Schema>) {
    this.#schemas = schemas;
  }

  /** The schema a `$ref` names (or the schema itself). */
  resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref !== "string") return schema;
    const target = this.#schemas[ref.split("/").pop()!];
    if (!target) throw new Error(`the trimmed spec lacks the schema ${ref} (regenerate it with trim-spec.mjs)`);
    return this.resolve(target);
  }

  /** Every problem of `value` against `schema`, fatal ones and unknown fields. */
  check(value: unknown, schema: Schema, path = ""): Problem[] {
    const s = this.resolve(schema);
    const problems: Problem[] = [];
    for (const part of (s.allOf as Schema[] | undefined) ?? []) problems.push(...this.check(value, part, path));
    if (s.oneOf || s.anyOf) problems.push(...this.#union(value, (s.oneOf ?? s.anyOf) as Schema[], path));
    const types = s.type === undefined ? undefined : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (types && !types.some((t) => typeMatches(value, t))) {
      const wanted = types.find((t) => t !== "null") ?? types[0]!;
      return [...problems, { path, ...(TYPE_ERRORS[wanted]?.(value) ?? { code: "BASE_TYPE_BAD_TYPE", message: `Must be ${wanted}.` }) }];
    }
    if (s.const !== undefined && value !== s.const) problems.push({ path, code: "BASE_TYPE_CHOICES", message: `Value must be one of (${JSON.stringify(s.const)}).` });
    if (Array.isArray(s.enum) && !s.enum.includes(value)) problems.push({ path, code: "BASE_TYPE_CHOICES", message: `Value must be one of (${s.enum.map((e) => JSON.stringify(e)).join(", ")}).` });
    if (typeof value === "string") problems.push(...this.#string(value, s, path));
    else if (typeof value === "number") problems.push(...this.#number(value, s, path));
    else if (Array.isArray(value)) problems.push(...this.#array(value, s, path));
    else if (value !== null && typeof value === "object") problems.push(...this.#object(value as Json, s, path));
    return problems;
  }

  #string(value: string, s: Schema, path: string): Problem[] {
    const length = [...value].length;
    const min = s.minLength as number | undefined;
    const max = s.maxLength as number | undefined;
    if ((min !== undefined && length < min) || (max !== undefined && length > max)) {
      if (min !== undefined && min > 0 && max !== undefined) return [{ path, code: "BASE_TYPE_BAD_LENGTH", message: `Must be between ${min} and ${max} in length.` }];
      return [length > (max ?? Infinity) ? { path, code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${max} or fewer in length.` } : { path, code: "BASE_TYPE_MIN_LENGTH", message: `Must be ${min} or more in length.` }];
    }
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(value)) {
      return [{ path, code: s.format === "snowflake" ? "NUMBER_TYPE_COERCE" : "STRING_TYPE_REGEX", message: s.format === "snowflake" ? `Value "${value}" is not snowflake.` : `String value did not match validation regex.` }];
    }
    return [];
  }

  #number(value: number, s: Schema, path: string): Problem[] {
    if (typeof s.minimum === "number" && value < s.minimum) return [{ path, code: "NUMBER_TYPE_MIN", message: `int value should be greater than or equal to ${s.minimum}.` }];
    if (typeof s.maximum === "number" && value > s.maximum) return [{ path, code: "NUMBER_TYPE_MAX", message: `int value should be less than or equal to ${s.maximum}.` }];
    return [];
  }

  #array(value: unknown[], s: Schema, path: string): Problem[] {
    if (typeof s.maxItems === "number" && value.length > s.maxItems) return [{ path, code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${s.maxItems} or fewer in length.` }];
    if (typeof s.minItems === "number" && value.length < s.minItems) return [{ path, code: "BASE_TYPE_MIN_LENGTH", message: `Must be ${s.minItems} or more in length.` }];
    const problems: Problem[] = [];
    if (s.uniqueItems === true) {
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) problems.push({ path: join(path, i), code: "SET_TYPE_ALREADY_CONTAINS_VALUE", message: "The set already contains this value" });
        seen.add(key);
      });
    }
    if (s.items) value.forEach((item, i) => problems.push(...this.check(item, s.items as Schema, join(path, i))));
    return problems;
  }

  #object(value: Json, s: Schema, path: string): Problem[] {
    const problems: Problem[] = [];
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const key of (s.required as string[] | undefined) ?? []) {
      if (value[key] === undefined) problems.push({ path: join(path, key), code: "BASE_TYPE_REQUIRED", message: "This field is required" });
    }
    if (typeof s.maxProperties === "number" && Object.keys(value).length > s.maxProperties) problems.push({ path, code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${s.maxProperties} or fewer in length.` });
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const property = properties[key];
      if (property) problems.push(...this.check(item, property, join(path, key)));
      else if (s.additionalProperties && typeof s.additionalProperties === "object") problems.push(...this.check(item, s.additionalProperties as Schema, join(path, key)));
      else if (s.properties !== undefined || s.additionalProperties === false) problems.push({ path: join(path, key), code: "UNKNOWN_FIELD", message: "Not in the spec (Discord ignores unknown fields).", unknown: true });
    }
    return problems;
  }

  /** oneOf/anyOf: the branches whose `type` field fits the value's are tried; the first that fits wins, else the closest one's problems. */
  #union(value: unknown, branches: Schema[], path: string): Problem[] {
    const resolved = branches.map((b) => this.resolve(b));
    const tag = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json).type : undefined;
    const candidates = resolved.filter((b) => {
      const types = b.type === undefined ? undefined : Array.isArray(b.type) ? (b.type as string[]) : [b.type as string];
      if (types && !types.some((t) => typeMatches(value, t))) return false;
      if (tag === undefined) return true;
      const typeSchema = (b.properties as Record<string, Schema> | undefined)?.type;
      const allowed = typeSchema ? ((typeSchema.enum as unknown[] | undefined) ?? (typeSchema.const !== undefined ? [typeSchema.const] : undefined)) : undefined;
      return allowed === undefined || allowed.includes(tag);
    });
    if (candidates.length === 0 && tag === undefined) return this.check(value, resolved.find((b) => b.type !== "null") ?? resolved[0]!, path);
    if (candidates.length === 0) {
      const tags = resolved.flatMap((b) => ((b.properties as Record<string, Schema> | undefined)?.type?.enum as unknown[] | undefined) ?? []);
      return [{ path: join(path, "type"), code: "UNION_TYPE_CHOICES", message: `Value of field "type" must be one of (${tags.join(", ")}).` }];
    }
    let best: Problem[] | undefined;
    for (const branch of candidates) {
      const problems = this.check(value, branch, path);
      const fatal = problems.filter((p) => !p.unknown).length;
      if (fatal === 0) return problems;
      if (!best || fatal < best.filter((p) => !p.unknown).length) best = problems;
    }
    return best ?? [];
  }
}

/** Discord's nested `errors` object of a 50035 answer, from flat problems: `{ content: { _errors: [{ code, message }] } }`. */
export function errorTree(problems: Problem[]): Json {
  const tree: Json = {};
  for (const problem of problems) {
    const keys = problem.path === "" ? [] : problem.path.replace(/\[(\d+)\]/g, ".$1").split(".");
    let node = tree;
    for (const key of keys) node = (node[key] ??= {}) as Json;
    ((node._errors ??= []) as Json[]).push({ code: problem.code, message: problem.message });
  }
  return tree;
}
