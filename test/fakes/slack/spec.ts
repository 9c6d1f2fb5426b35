import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Json } from "./protocol.ts";

/**
 * Validates Web API calls against Slack's Web API spec (slackapi/slack-api-specs, Swagger 2.0,
 * "Slack Web API 1.7.0", last updated 2021), vendored trimmed in ./spec (see its README):
 * required parameters present, no unknown parameters, simple types (string, boolean, integer,
 * number, JSON-encoded arrays/objects). What the 2021 spec lacks is hand-written below from
 * Slack's current method reference (docs.slack.dev/reference/methods), marked as such.
 */

export interface Param {
  name: string;
  /** `string`, `boolean`, `integer`, `number`, `array` or `object` (the last two JSON-encoded in forms). */
  type: string;
  required?: boolean;
}
export interface MethodSpec {
  params: Param[];
  /** Keys a success answer must carry. */
  answerRequires: string[];
  /** Where the table comes from. */
  source: "spec" | "spec+docs" | "docs (hand-written)";
}
interface Trimmed {
  title: string;
  version: string;
  methods: Record<string, { params: Array<{ name: string; in: string; type: string; required?: boolean }>; answerRequires: string[] }>;
  otherMethods: string[];
}

/** The spec: SLACK_WEB_API_SPEC (a full upstream file, after trim-spec.mjs) or the copy beside this file. */
export const SPEC_FILE = process.env.SLACK_WEB_API_SPEC ?? fileURLToPath(new URL("./spec/slack-web-api.trimmed.json", import.meta.url));

const s = (name: string, type = "string", required = false): Param => ({ name, type, ...(required ? { required } : {}) });

/** Methods the 2021 spec lacks, hand-written from docs.slack.dev (2025). */
const HAND_WRITTEN: Record<string, Omit<MethodSpec, "source">> = {
  "apps.connections.open": { params: [], answerRequires: ["ok", "url"] },
  "assistant.threads.setStatus": {
    params: [s("channel_id", "string", true), s("thread_ts", "string", true), s("status", "string", true), s("loading_messages", "array"), s("icon_emoji"), s("icon_url"), s("username")],
    answerRequires: ["ok"],
  },
  "chat.startStream": {
    params: [s("channel", "string", true), s("thread_ts"), s("markdown_text"), s("chunks", "array"), s("recipient_user_id"), s("recipient_team_id"), s("task_display_mode"), s("icon_emoji"), s("icon_url"), s("username")],
    answerRequires: ["ok", "channel", "ts"],
  },
  "chat.appendStream": { params: [s("channel", "string", true), s("ts", "string", true), s("markdown_text"), s("chunks", "array")], answerRequires: ["ok", "channel", "ts"] },
  "chat.stopStream": {
    params: [s("channel", "string", true), s("ts", "string", true), s("markdown_text"), s("chunks", "array"), s("blocks", "array"), s("metadata", "object"), s("session_status")],
    answerRequires: ["ok", "channel", "ts", "message"],
  },
};

/** Parameters added to spec methods since 2021 (docs.slack.dev), hand-written. */
const ADDED: Record<string, Param[]> = {
  "chat.postMessage": [s("metadata", "object"), s("markdown_text")],
  "chat.update": [s("metadata", "object"), s("markdown_text"), s("file_ids", "array"), s("reply_broadcast", "boolean")],
  "chat.postEphemeral": [s("markdown_text")],
  "conversations.history": [s("include_all_metadata", "boolean")],
  "conversations.replies": [s("include_all_metadata", "boolean")],
  "views.open": [s("interactivity_pointer")],
};
/** Required per the docs, though the 2021 spec doesn't mark them. */
const REQUIRED_PER_DOCS: Record<string, string[]> = {
  "conversations.history": ["channel"],
  "conversations.replies": ["channel", "ts"],
  "conversations.info": ["channel"],
  "chat.delete": ["channel", "ts"],
  "users.info": ["user"],
};
/** Parameters the spec types as `string` that carry JSON (encoded in forms, or plain JSON in JSON bodies). */
const JSON_PARAMS: Record<string, "array" | "object"> = { blocks: "array", attachments: "array", view: "object", metadata: "object", chunks: "array", loading_messages: "array", file_ids: "array" };
/** Accepted on every method: the token as a form field, and the team_id WebClient adds when Bolt knows the team. */
const EVERYWHERE = [s("token"), s("team_id")];

function load(): { title: string; methods: Map<string, MethodSpec>; others: Set<string> } {
  const trimmed = JSON.parse(readFileSync(SPEC_FILE, "utf8")) as Trimmed;
  const methods = new Map<string, MethodSpec>();
  for (const [name, entry] of Object.entries(trimmed.methods)) {
    const required = REQUIRED_PER_DOCS[name] ?? [];
    const params: Param[] = entry.params
      .filter((p) => p.name !== "token")
      .map((p) => ({ name: p.name, type: JSON_PARAMS[p.name] ?? p.type, ...(p.required || required.includes(p.name) ? { required: true } : {}) }));
    params.push(...(ADDED[name] ?? []));
    methods.set(name, { params, answerRequires: entry.answerRequires, source: ADDED[name] || REQUIRED_PER_DOCS[name] ? "spec+docs" : "spec" });
  }
  for (const [name, entry] of Object.entries(HAND_WRITTEN)) methods.set(name, { ...entry, source: "docs (hand-written)" });
  return { title: `${trimmed.title} ${trimmed.version}`, methods, others: new Set(trimmed.otherMethods) };
}

export class SpecValidator {
  readonly #spec = load();

  /** e.g. "Slack Web API 1.7.0". */
  get version(): string {
    return this.#spec.title;
  }

  /** The table of a method the fake serves. */
  method(name: string): MethodSpec | undefined {
    return this.#spec.methods.get(name);
  }

  /** `served`, `known` (Slack has it, the fake doesn't serve it), or `unknown`. */
  kind(name: string): "served" | "known" | "unknown" {
    return this.#spec.methods.has(name) ? "served" : this.#spec.others.has(name) ? "known" : "unknown";
  }

  /**
   * Checks one call's raw parameters (form fields are all strings) and decodes them:
   * JSON-encoded fields parsed, booleans and numbers of forms converted.
   */
  check(method: string, raw: Json): { params: Json; problems: string[] } {
    const spec = this.#spec.methods.get(method);
    const problems: string[] = [];
    const params: Json = {};
    if (!spec) return { params: { ...raw }, problems: [`${method}: not in the spec nor in the fake's hand-written tables`] };
    const known = new Map([...EVERYWHERE, ...spec.params].map((p) => [p.name, p]));
    for (const [key, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      const param = known.get(key);
      if (!param) {
        problems.push(`${method}: unknown parameter "${key}"`);
        params[key] = value;
        continue;
      }
      const decoded = decode(value, param.type);
      if ("problem" in decoded) problems.push(`${method}.${key}: ${decoded.problem}`);
      else params[key] = decoded.value;
    }
    for (const param of spec.params) {
      if (param.required && (raw[param.name] === undefined || raw[param.name] === "")) problems.push(`${method}: required parameter "${param.name}" is missing`);
    }
    return { params, problems };
  }

  /** Keys missing from a success answer (a self-check of the fake's answers). */
  missingAnswerKeys(method: string, answer: Json): string[] {
    return (this.#spec.methods.get(method)?.answerRequires ?? []).filter((key) => !(key in answer));
  }
}

function decode(value: unknown, type: string): { value: unknown } | { problem: string } {
  switch (type) {
    case "string":
      // A form would have sent numbers and booleans as text too.
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? { value: String(value) } : { problem: `expected a string, got ${describe(value)}` };
    case "boolean":
      if (typeof value === "boolean") return { value };
      if (value === "true" || value === "1") return { value: true };
      if (value === "false" || value === "0") return { value: false };
      return { problem: `expected a boolean, got ${describe(value)}` };
    case "integer":
    case "number": {
      const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
      if (!Number.isFinite(n) || (type === "integer" && !Number.isInteger(n))) return { problem: `expected ${type === "integer" ? "an integer" : "a number"}, got ${describe(value)}` };
      // Timestamps typed as numbers keep their exact text.
      return { value: typeof value === "string" && type === "number" ? value : n };
    }
    case "array":
    case "object": {
      let parsed = value;
      if (typeof value === "string") {
        try {
          parsed = JSON.parse(value);
        } catch {
          return { problem: `not valid JSON` };
        }
      }
      const ok = type === "array" ? Array.isArray(parsed) : parsed !== null && typeof parsed === "object" && !Array.isArray(parsed);
      return ok ? { value: parsed } : { problem: `expected a JSON ${type}, got ${describe(parsed)}` };
    }
    default:
      return { value };
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `the string ${JSON.stringify(value.slice(0, 40))}` : typeof value;
}
