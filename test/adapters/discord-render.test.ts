import { describe, expect, it } from "vitest";
import { argsOf, slashCommands } from "../../adapters/discord/commands.ts";
import { markdownToDiscord, renderMessage } from "../../adapters/discord/render.ts";
import type { CommandInfo } from "../../src/port/adapter.ts";

const builtin = (name: string, description = "does things"): CommandInfo => ({ name, description, usage: `/${name}`, kind: "builtin" });

describe("discord: slash commands from the engine's commands", () => {
  it("typed options for the built-ins, a text option for workflow commands; bad names left out", () => {
    const { commands, skipped } = slashCommands([builtin("help", "what I can do"), builtin("history"), builtin("schedule"), { name: "demo", description: "a demo task", usage: "/demo <text>", kind: "workflow" }, { name: "Bad Name", description: "x", usage: "", kind: "workflow" }]);
    expect(commands.map((c) => c.name)).toEqual(["help", "history", "schedule", "demo"]);
    expect(skipped).toEqual(["Bad Name"]);
    expect(commands[0]).toMatchObject({ description: "What I can do", contexts: [0, 1] });
    expect(commands[1]!.options).toEqual([expect.objectContaining({ name: "count", type: 4, min_value: 1, max_value: 200 })]);
    expect(commands[2]!.options!.map((o) => o.name)).toEqual(["add", "list", "pause", "resume", "remove"]);
    expect(commands[3]!.options).toEqual([expect.objectContaining({ name: "text", type: 3, required: false })]);
    for (const c of commands) expect(c.description.length).toBeLessThanOrEqual(100);
  });

  it("turns options back into the engine's arguments", () => {
    expect(argsOf("demo", [{ name: "text", type: 3, value: " owls " }])).toBe("owls");
    expect(argsOf("history", [{ name: "count", type: 4, value: 5 }])).toBe("5");
    expect(argsOf("help")).toBe("");
    const add = [{ name: "add", type: 1, options: [{ name: "cron", type: 3, value: "0 9 * * 1-5" }, { name: "post", type: 3, value: "Stand-up" }, { name: "timezone", type: 3, value: "Europe/Berlin" }, { name: "missed", type: 3, value: "all" }] }];
    expect(argsOf("schedule", add)).toBe('add "0 9 * * 1-5" tz=Europe/Berlin missed=all Stand-up');
    expect(argsOf("schedule", [{ name: "pause", type: 1, options: [{ name: "id", type: 3, value: "abc" }] }])).toBe("pause abc");
    expect(argsOf("schedule", [{ name: "list", type: 1 }])).toBe("list");
  });
});

describe("discord: rendering", () => {
  it("keeps the markdown subset, escapes what a person typed, leaves URLs alone", () => {
    expect(markdownToDiscord("**bold** _it_ `co*de` snake_case")).toBe("**bold** _it_ `co*de` snake\\_case");
    expect(markdownToDiscord("# not a heading\n> not a quote\n||spoiler|| [x](http://evil) <@123>")).toBe("\\# not a heading\n\\> not a quote\n\\|\\|spoiler\\|\\| \\[x\\](http://evil) \\<@123>");
    expect(markdownToDiscord("https://example.org/a_b*c")).toBe("https://example.org/a_b*c");
  });

  it("never pings, splits at 2,000 characters with the buttons last, and keeps custom_ids within 100", () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(90)}`).join("\n");
    const long = "cf:" + "t".repeat(150);
    const parts = renderMessage({ kind: "question", text, actions: [{ id: long, label: "Yes", role: "choice" }] }, (id, prefix) => prefix + (id.length > 90 ? "~short" : id));
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.content.length).toBeLessThanOrEqual(2000);
      expect(part.allowed_mentions).toEqual({ parse: [] });
    }
    expect(parts.slice(0, -1).every((p) => p.components.length === 0)).toBe(true);
    expect(parts.at(-1)!.components[0]!.components[0]).toMatchObject({ custom_id: "~short", label: "Yes" });
    expect(parts.map((p) => p.content).join("\n").match(/^line \d+/gm)).toHaveLength(50);
  });

  it("a review: the draft in an embed, Approve / Reject / Edit in a row, Edit opens a modal; a free-text question gets an Answer button", () => {
    const [review] = renderMessage(
      { kind: "review", text: "Publish this draft?", review: { data: "Report: owls" }, actions: [{ id: "cf:t:k:approve", label: "Approve", role: "approve", style: "primary" }, { id: "cf:t:k:reject", label: "Reject", role: "reject", style: "danger" }, { id: "cf:t:k:edit", label: "Edit", role: "edit" }] },
      (id, prefix) => prefix + id,
    );
    expect(review!.embeds).toEqual([{ description: "Report: owls", color: 0x5865f2 }]);
    expect(review!.components[0]!.components.map((b) => [b.label, b.custom_id])).toEqual([["Approve", "cf:t:k:approve"], ["Reject", "cf:t:k:reject"], ["Edit", "modal:cf:t:k:edit"]]);
    const [free] = renderMessage({ kind: "question", text: "What should I write about?", expectsText: true }, (id) => id);
    expect(free!.components[0]!.components[0]).toMatchObject({ label: "Answer", custom_id: "modal:answer" });
    // With its task where it fits, so that a form left open is known to be stale once the task stops waiting.
    const [ofTask] = renderMessage({ kind: "question", taskId: "t-abc", text: "What should I write about?", expectsText: true }, (id) => id);
    expect(ofTask!.components[0]!.components[0]).toMatchObject({ custom_id: "modal:answer:t-abc" });
    const [longTask] = renderMessage({ kind: "question", taskId: "t".repeat(90), text: "What should I write about?", expectsText: true }, (id) => id);
    expect(longTask!.components[0]!.components[0]).toMatchObject({ custom_id: "modal:answer" });
  });
});
