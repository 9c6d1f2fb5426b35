import { describe, expect, it } from "vitest";
import { checkCommands } from "./commands.ts";
import { checkMessage, checkModal, withIds } from "./limits.ts";
import { errorTree } from "./schema.ts";
import { DiscordSpec } from "./spec.ts";

// The fake is only useful if it refuses what Discord refuses: the spec's schemas, then the documented limits.

const CREATE = "POST /channels/{channel_id}/messages";
const CALLBACK = "POST /interactions/{interaction_id}/{interaction_token}/callback";
const button = (label: string, customId: string) => ({ type: 2, style: 1, label, custom_id: customId });
const row = (...components: object[]) => ({ type: 1, components });
const messages = (body: object, route: "create" | "reply" | "edit" = "create") => checkMessage(body as Record<string, unknown>, route).map((p) => `${p.path}: ${p.message}`);

describe("the vendored spec", () => {
  const spec = new DiscordSpec();

  it("is Discord's v10 spec, MIT", () => {
    expect(spec.version).toBe("Discord HTTP API (Preview) 10 (MIT)");
    expect(spec.operation(CREATE)?.answerRequires).toContain("channel_id");
    expect(spec.knows("POST", "/guilds/1/channels")).toBe(true);
    expect(spec.knows("POST", "/nope")).toBe(false);
  });

  it("passes a good message and flags what its schemas forbid", () => {
    const good = { content: "Deploying", embeds: [{ title: "Status", description: "ok", fields: [{ name: "a", value: "b" }], footer: { text: "f" } }], components: [row(button("Approve", "approve"), button("Reject", "reject"))], allowed_mentions: { parse: [] }, flags: 4096, nonce: "123", enforce_nonce: true, tts: false };
    expect(spec.checkBody(CREATE, good)).toEqual([]);
    expect(messages(good)).toEqual([]);
    const bad = spec.checkBody(CREATE, { content: 5, components: [row(button("b".repeat(81), "x".repeat(101)))], colour: "red" });
    expect(bad.map((p) => `${p.path} ${p.code}${p.unknown ? " (unknown)" : ""}`)).toEqual([
      "content BASE_TYPE_STRING",
      "components[0].components[0].label BASE_TYPE_MAX_LENGTH",
      "components[0].components[0].custom_id BASE_TYPE_BAD_LENGTH",
      "colour UNKNOWN_FIELD (unknown)",
    ]);
    expect(spec.checkBody(CREATE, { components: [{ type: 99 }] }).map((p) => p.code)).toEqual(["UNION_TYPE_CHOICES"]);
    expect(spec.checkQuery("GET /channels/{channel_id}/messages", { limit: "101", before: "abc" }).map((p) => `${p.path} ${p.code}`)).toEqual(["limit NUMBER_TYPE_MAX", "before NUMBER_TYPE_COERCE"]);
  });

  it("checks interaction callbacks by type: a modal's title, labels and lengths", () => {
    const modal = { custom_id: "edit", title: "t".repeat(46), components: [{ type: 18, label: "l".repeat(46), component: { type: 4, custom_id: "reason", style: 2, max_length: 4001 } }] };
    expect(spec.checkBody(CALLBACK, { type: 9, data: modal }).map((p) => `${p.path} ${p.code}`)).toEqual([
      "data.title BASE_TYPE_BAD_LENGTH",
      "data.components[0].label BASE_TYPE_BAD_LENGTH",
      "data.components[0].component.max_length NUMBER_TYPE_MAX",
    ]);
    expect(spec.checkBody(CALLBACK, { type: 5, data: { flags: 64 } })).toEqual([]);
    expect(spec.checkBody(CALLBACK, { type: 4, data: { content: "x".repeat(2001) } }).map((p) => p.path)).toEqual(["data.content"]);
  });

  it("turns problems into Discord's nested errors object", () => {
    expect(errorTree([{ path: "components[0].custom_id", code: "BASE_TYPE_MAX_LENGTH", message: "Must be 100 or fewer in length." }])).toEqual({
      components: { "0": { custom_id: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 100 or fewer in length." }] } } },
    });
  });
});

describe("Discord's documented limits", () => {
  it("content, action rows, buttons, custom_ids", () => {
    expect(messages({ content: "x".repeat(2000) })).toEqual([]);
    expect(messages({ content: "x".repeat(2001) })).toEqual(["content: Must be 2000 or fewer in length."]);
    expect(messages({ content: "é".repeat(2000) })).toEqual([]);
    expect(messages({ components: Array.from({ length: 6 }, (_, i) => row(button("b", `b${i}`))) })).toEqual(["components: Must be 5 or fewer in length."]);
    expect(messages({ components: [row(...Array.from({ length: 6 }, (_, i) => button("b", `b${i}`)))] })).toEqual(["components[0].components: Must be 5 or fewer in length."]);
    expect(messages({ components: [row(button("A", "same")), row(button("B", "same"))] })).toEqual(['components[1].components[0].custom_id: Component custom id "same" is not unique (also at components[0].components[0]).']);
    expect(messages({ components: [row({ type: 2, style: 5, label: "Docs", custom_id: "x" })] })).toEqual(["components[0].components[0]: A link button (style 5) needs a url and no custom_id."]);
    expect(messages({ components: [row({ type: 3, custom_id: "pick", options: [] }, button("b", "b"))] })).toEqual(["components[0].components: A select menu takes a whole action row."]);
  });

  it("embeds: fields, lengths, 6,000 characters across a message", () => {
    const embed = (n: number) => ({ title: "t".repeat(256), description: "d".repeat(n) });
    expect(messages({ embeds: [embed(4096)] })).toEqual([]);
    expect(messages({ embeds: [{ title: "t".repeat(257), footer: { text: "f".repeat(2049) }, fields: Array.from({ length: 26 }, () => ({ name: "n", value: "v" })) }] })).toEqual([
      "embeds[0].title: Must be 256 or fewer in length.",
      "embeds[0].footer.text: Must be 2048 or fewer in length.",
      "embeds[0].fields: Must be 25 or fewer in length.",
    ]);
    expect(messages({ embeds: [embed(3000), embed(3000)] })).toEqual(["embeds: Embed size exceeds maximum size of 6000 (6512)."]);
    expect(messages({ embeds: Array.from({ length: 11 }, () => ({ title: "t" })) })).toEqual(["embeds: Must be 10 or fewer in length."]);
  });

  it("allowed_mentions and the flags a route takes", () => {
    expect(messages({ content: "hi", allowed_mentions: { parse: ["users"], users: ["1"] } })).toEqual(['allowed_mentions: parse:["users"] and users: [...] are mutually exclusive.']);
    expect(messages({ content: "hi", flags: 64 }, "reply")).toEqual([]);
    expect(messages({ content: "hi", flags: 64 }, "create")).toEqual(["flags: Flags 64 can't be set on this route (settable: 45060)."]);
  });

  it("modals: at most 5 components, text inputs' lengths, unique custom_ids", () => {
    const input = (id: string, extra: object = {}) => ({ type: 18, label: "L", component: { type: 4, custom_id: id, style: 1, ...extra } });
    const problems = checkModal({ custom_id: "m", title: "T", components: [input("a"), input("a"), input("b", { min_length: 10, max_length: 5 }), input("c"), input("d"), input("e")] }).map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual([
      "data.components: Must be 5 or fewer in length.",
      "data.components[2].component.min_length: min_length must not be over max_length.",
      'data.components[1].component.custom_id: Component custom id "a" is not unique (also at data.components[0].component).',
    ]);
    expect(checkModal({ custom_id: "m", title: "T", components: [{ type: 1, components: [{ type: 4, custom_id: "x", style: 1 }] }] }).map((p) => p.message)).toEqual(["A text input in an action row needs a label (or put it in a Label component)."]);
  });

  it("application commands: names, descriptions, options", () => {
    const ok = { name: "schedule", description: "Schedules", options: [{ type: 1, name: "add", description: "Add", options: [{ type: 3, name: "cron", description: "When", required: true }] }] };
    expect(checkCommands([ok, { type: 3, name: "Summarize This" }])).toEqual([]);
    expect(checkCommands([{ name: "Deploy", description: "" }, { ...ok }, { ...ok }, { name: "mixed", description: "m", options: [{ type: 1, name: "a", description: "a" }, { type: 3, name: "b", description: "b" }] }]).map((p) => `${p.path} ${p.code}`)).toEqual([
      "0.name APPLICATION_COMMAND_INVALID_NAME",
      "0.description BASE_TYPE_BAD_LENGTH",
      "2.name APPLICATION_COMMANDS_DUPLICATE_NAME",
      "3.options APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
    ]);
    expect(checkCommands([{ name: "x", description: "x", options: [{ type: 3, name: "a", description: "a" }, { type: 3, name: "b", description: "b", required: true }] }]).map((p) => p.code)).toEqual(["APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"]);
  });

  it("stores components with Discord's numeric ids", () => {
    expect(withIds([row(button("A", "a"), { ...button("B", "b"), id: 2 })])).toEqual([{ type: 1, id: 1, components: [{ ...button("A", "a"), id: 3 }, { ...button("B", "b"), id: 2 }] }]);
  });
});
