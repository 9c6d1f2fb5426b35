import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createConsoleAdapter } from "../../adapters/console/index.ts";

describe("ConsoleAdapter.print (the CLI's banner)", () => {
  it("ends a progress line drawn before it (a task resumed at start) instead of gluing to it", async () => {
    const output = new PassThrough();
    output.setEncoding("utf8");
    let screen = "";
    output.on("data", (chunk: string) => (screen += chunk));
    const adapter = createConsoleAdapter({ input: new PassThrough(), output, tty: true, color: false, user: "ada" });
    await adapter.start(async () => {});
    const to = { platform: "console", channel: "local", user: "ada" };
    await adapter.send(to, { kind: "status", text: "Drafting", progress: { percent: 60, step: "Drafting", state: "running" }, taskId: "t1" });
    adapter.print("chatflow is running: type a request, or /help.\n");
    await adapter.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(screen).toBe("bot> [████████░░░░░░]  60%  Drafting\nchatflow is running: type a request, or /help.\n");
  });
});
