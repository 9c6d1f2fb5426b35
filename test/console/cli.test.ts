import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  // A child left running by a failed test would hold its data directory and port.
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }),
  );
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function configFile(stepDelayMs: number): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "chatflow-cli-"));
  dirs.push(dir);
  const file = path.join(dir, "chatflow.yaml");
  await writeFile(file, `store:\n  dir: ${path.join(dir, "data")}\nworkflows:\n  demo:\n    stepDelayMs: ${stepDelayMs}\nlog:\n  file: ${path.join(dir, "chatflow.log")}\n`);
  return { dir, file };
}

/** Runs the CLI as `npm start` does, on a pipe. */
function startCli(config: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcessWithoutNullStreams; output: () => string; waitFor: (text: string | RegExp, timeoutMs?: number) => Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "start", "--config", config], { cwd: root, env: { ...process.env, NO_COLOR: "1", CHATFLOW_WEB_PORT: "0", ...env } });
  children.push(child);
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = async (text: string | RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(typeof text === "string" ? out.includes(text) : text.test(out))) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${String(text)}. Output so far:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, output: () => out, waitFor, exited };
}

describe("console chat through a pipe", () => {
  it("holds a demo conversation with a question and a review to its result", async () => {
    const { file } = await configFile(20);
    const cli = startCli(file);
    cli.child.stdin.end("tell me about owls\n2\nedit\nOwls hunt at night.\nskip\n");
    expect(await cli.exited).toBe(0);
    const out = cli.output();
    expect(out).toContain("bot> Which kind of answer do you want?");
    expect(out).toContain("  2) Detailed report");
    expect(out).toContain("bot> Publish this draft?");
    expect(out).toContain("Report: tell me about owls");
    expect(out).toContain("Send the corrected text");
    expect(out).toMatch(/100%\s+✓ done/);
    expect(out).toContain("bot> Owls hunt at night.");
    expect(out).toContain("[1] Wikipedia: tell me about owls — https://en.wikipedia.org/wiki/Special:Search?search=tell%20me%20about%20owls");
    // Progress is printed as plain lines on a pipe (coalesced to the console's edit interval).
    expect(out).toMatch(/^bot> \[[█░]+\]\s+\d+%/m);
    expect(out.indexOf("Which kind of answer")).toBeLessThan(out.indexOf("Publish this draft?"));
  });

  it("after Ctrl-C mid-task, the next start resumes it: the pending question is shown again", async () => {
    const { file } = await configFile(300);
    const first = startCli(file);
    first.child.stdin.write("penguins\n");
    await first.waitFor("Which kind of answer do you want?");
    first.child.stdin.write("1\n");
    await first.waitFor("Gathering sources");
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(130);

    const second = startCli(file);
    await second.waitFor("Drafting");
    await second.waitFor("Publish this draft?");
    second.child.kill("SIGINT");
    await second.exited;
    // The step before the interruption is not shown running again.
    expect(second.output()).not.toContain("Understanding the request");

    const third = startCli(file);
    await third.waitFor("Publish this draft?");
    third.child.stdin.end("approve\n");
    expect(await third.exited).toBe(0);
    expect(third.output()).toContain("bot> penguins: the essentials in three points.");
  }, 60_000);

  it("starts the console chat when the web chat's port is taken by another program, and says how to get the web chat back", async () => {
    const taken = createServer(() => undefined);
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const { file } = await configFile(20);
      // As `npm start` runs: the web chat on by default, on a port another program holds.
      const cli = startCli(file, { CHATFLOW_WEB_PORT: String(port) });
      await cli.waitFor(`chatflow: the web chat is off: The web server can't listen on 127.0.0.1:${port}: the port is in use. Set adapters.web.port or CHATFLOW_WEB_PORT`);
      cli.child.stdin.end("/help\n");
      expect(await cli.exited).toBe(0);
      expect(cli.output()).toContain("/history");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("names the file and field of an invalid configuration", async () => {
    const { dir } = await configFile(1);
    const bad = path.join(dir, "bad.yaml");
    await writeFile(bad, "tasks:\n  concurrency: lots\n");
    const cli = startCli(bad);
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(/Invalid configuration in .*bad\.yaml:\n\s+tasks\.concurrency: Invalid input: expected number, received string/);
  });
});
