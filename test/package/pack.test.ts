/**
 * The package as a consumer gets it: `npm pack` (prepack builds dist/ with tsc), install the
 * tarball into a fresh ESM project, run a workflow from plain JavaScript, run the `chatflow`
 * bin, and type-check a TypeScript file against the shipped declarations.
 *
 * The pack runs in a staging copy of the working tree (node_modules linked, dist/ not copied),
 * so this test never writes the repository's dist/ and never races another build there.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const TIMEOUT = 240_000;

/** Not copied to the staging tree: installed, generated or run-time files. */
const SKIP = new Set(["node_modules", ".git", "dist", "data", ".bench-tmp"]);

/** The environment without what `npm test` adds for its own package (`npm_config_local_prefix` would point npm back at the repository). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(lifecycle_|package_|command$|config_local_prefix$|config_call$)/i.test(key) || key === "INIT_CWD") continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: "1", npm_config_update_notifier: "false" };
}

function run(command: string, args: string[], cwd: string, timeout = TIMEOUT): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed in ${cwd}: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** npm may print script banners around the JSON; the JSON array is what starts with `[`. */
function parsePackJson(stdout: string): { filename: string; files: { path: string }[] }[] {
  const start = stdout.search(/^\[/m);
  if (start < 0) throw new Error(`npm pack printed no JSON:\n${stdout}`);
  return JSON.parse(stdout.slice(start)) as { filename: string; files: { path: string }[] }[];
}

function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

let work: string;
let consumer: string;
let installed: string;
let packed: string[];

describe("the packed package", () => {
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "chatflow-pack-"));
    const stage = path.join(work, "stage");
    cpSync(root, stage, { recursive: true, filter: (source) => !(path.dirname(source) === root.replace(/\/$/, "") && SKIP.has(path.basename(source))) && !source.endsWith(".tgz") });
    symlinkSync(path.join(root, "node_modules"), path.join(stage, "node_modules"), "dir");

    const out = path.join(work, "out");
    mkdirSync(out);
    const pack = parsePackJson((await run("npm", ["pack", "--json", "--pack-destination", out], stage)).stdout);
    expect(pack).toHaveLength(1);
    packed = pack[0]!.files.map((file) => file.path);
    const tarball = path.join(out, pack[0]!.filename);
    expect(existsSync(tarball)).toBe(true);

    consumer = path.join(work, "consumer");
    mkdirSync(consumer);
    writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
    await run("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], consumer);
    installed = path.join(consumer, "node_modules", "chatflow");
  }, TIMEOUT);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("holds dist, bin, config and docs, and nothing of test/, bench/ or the sources", () => {
    expect(packed).toContain("package.json");
    expect(packed).toContain("README.md");
    expect(packed).toContain("bin/chatflow.js");
    expect(packed).toContain("config/chatflow.yaml");
    expect(packed).toContain("dist/config/chatflow.yaml");
    expect(packed).toContain("dist/src/index.js");
    expect(packed).toContain("dist/src/index.d.ts");
    expect(packed).toContain("dist/src/cli.js");
    expect(packed).toContain("dist/adapters/console/index.js");
    expect(packed).toContain("dist/adapters/telegram/index.d.ts");
    expect(packed).toContain("dist/adapters/slack/index.d.ts");
    expect(packed).toContain("dist/adapters/discord/index.d.ts");
    expect(packed).toContain("dist/adapters/web/index.d.ts");
    expect(packed).toContain("dist/adapters/web/page/index.html");
    expect(packed).toContain("adapters/slack/manifest.yaml");
    expect(packed).toContain("LICENSE");
    // The remote-workflow contract ships, for the people who write such a service.
    expect(packed).toContain("docs/remote-workflows.md");
    const unexpected = packed.filter((file) => !/^(dist\/(src|adapters)\/.+\.(js|d\.ts)$|dist\/config\/|bin\/|config\/|package\.json$|LICENSE$|README\.md$|adapters\/(telegram|slack|discord)\/README\.md$|adapters\/slack\/manifest\.yaml$|docs\/[a-z-]+\.md$|dist\/adapters\/web\/page\/(index\.html|app\.js|style\.css)$)/.test(file));
    expect(unexpected).toEqual([]);
    expect(packed.filter((file) => /(^|\/)(test|bench|scripts)\//.test(file) || /\.test\.|\.tsbuildinfo$|\.map$/.test(file))).toEqual([]);
    expect(packed.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
  });

  it("names no path outside the package", () => {
    const files = walk(installed);
    expect(files.map((file) => path.relative(installed, file).split(path.sep).join("/")).sort()).toEqual([...packed].sort());
    const problems: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      const shown = path.relative(installed, file);
      for (const absolute of [root.replace(/\/$/, ""), work, tmpdir(), "/home/", "/root/", "file://"]) {
        if (text.includes(absolute)) problems.push(`${shown} names ${absolute}`);
      }
      if (!/\.(js|d\.ts)$/.test(file)) continue;
      // Every relative specifier (static, dynamic, `new URL(…, import.meta.url)`) resolves to a packed file.
      const specifiers = [...text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((match) => match[1]!);
      for (const specifier of specifiers) {
        const target = path.resolve(path.dirname(file), specifier);
        const inside = target.startsWith(installed + path.sep);
        if (!inside || !existsSync(target)) problems.push(`${shown} → ${specifier} (${inside ? "missing" : "outside the package"})`);
        if (file.endsWith(".d.ts") && specifier.endsWith(".ts")) problems.push(`${shown} → ${specifier} (a .ts specifier in a declaration)`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("runs a workflow from plain JavaScript", async () => {
    writeFileSync(
      path.join(consumer, "workflow.mjs"),
      `import { defineWorkflow, runWorkflow } from "chatflow";

const greeting = defineWorkflow({
  name: "greeting",
  description: "a greeting, reviewed",
  async run(ctx, input) {
    await ctx.progress(10, "Looking up the name");
    const name = await ctx.step("name", () => input.text.trim().toUpperCase());
    const style = await ctx.ask("Which style?", { choices: ["Formal", "Casual"] });
    const draft = style === "Formal" ? "Good day, " + name + "." : "Hi " + name + "!";
    const verdict = await ctx.review("Send this greeting?", { data: draft });
    if (!verdict.approved) return { text: "Stopped: " + (verdict.feedback ?? "rejected") };
    return { text: (verdict.edited ?? draft) + " (" + style + ")" };
  },
});

const run = await runWorkflow(greeting, { text: " ada " }, { answers: ["Casual", { approved: true }] });
console.log(JSON.stringify({ status: run.task.status, text: run.task.result?.text, asked: run.asked.map((m) => m.kind) }));
`,
    );
    const { stdout } = await run(process.execPath, ["workflow.mjs"], consumer, 60_000);
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({ status: "completed", text: "Hi ADA! (Casual)", asked: ["question", "review"] });
  }, 60_000);

  it("installs a working chatflow bin that needs no tsx", async () => {
    expect(existsSync(path.join(consumer, "node_modules", "tsx"))).toBe(false);
    const { stdout } = await run(path.join(consumer, "node_modules", ".bin", "chatflow"), ["--help"], consumer, 60_000);
    expect(stdout).toContain("Usage: chatflow start [--config <file>]");
    expect(stdout).toContain("-c, --config");
  }, 60_000);

  it("finds the default configuration from the built code", async () => {
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", `import { loadConfig } from "chatflow"; const c = await loadConfig(undefined, {}); console.log(JSON.stringify(c.store));`], consumer, 60_000);
    expect(JSON.parse(stdout.trim())).toMatchObject({ driver: "lowdb", dir: "data" });
  }, 60_000);

  it("ships declarations that type-check a TypeScript consumer (NodeNext)", async () => {
    writeFileSync(
      path.join(consumer, "check.ts"),
      `import { defineAgent, defineWorkflow, runWorkflow, scriptedModel, tool, type WorkflowRun } from "chatflow";
import { z } from "zod";
import { createConsoleAdapter } from "chatflow/console";
import { createTelegramAdapter } from "chatflow/telegram";
import { createSlackAdapter } from "chatflow/slack";
import { createWebAdapter } from "chatflow/web";
import { createBot, NonDeterminismError, type Bot, type BotError, type HandleOutcome, type Host, type HostHealth, type Logger, type SchedulerState, type StartedTask, type StartTaskRequest } from "chatflow";

const greeting = defineWorkflow<{ text: string }>({
  name: "greeting",
  async run(ctx, input) {
    const style: string = await ctx.ask("Which style?", { choices: ["Formal", "Casual"] });
    const verdict = await ctx.review("Send?", { data: style + input.text });
    return { text: verdict.edited ?? input.text };
  },
});
export const done: Promise<WorkflowRun> = runWorkflow(greeting, { text: "ada" }, { answers: ["Casual", { approved: true }] });
// An agent with a tool of its own, tested on a scripted model.
export const agent = defineAgent({
  name: "lookup",
  model: scriptedModel(["Found it."]).model,
  tools: { find: tool({ description: "Finds a thing", inputSchema: z.object({ name: z.string() }), execute: async ({ name }) => name.length, needsApproval: true }) },
});
export const adapters = [createConsoleAdapter, createTelegramAdapter, createSlackAdapter];

// Every type in the Bot's signature can be named by a consumer.
export async function wire(): Promise<void> {
  const web = createWebAdapter({ listen: false, env: {} });
  const bot: Bot = await createBot({ adapters: [web], onError: (error: BotError) => void error.context.task?.id });
  const host: Host = bot.host;
  const request: StartTaskRequest = { workflow: "demo", input: { text: "owls" }, address: { platform: "web", channel: "c", user: "u" } };
  const started: StartedTask = await host.tasks.start(request);
  const outcome: HandleOutcome = await bot.handle({ kind: "message", id: "e1", address: request.address, text: "hi" });
  const health: HostHealth = await host.health();
  const state: SchedulerState = await bot.schedulerState();
  const log: Logger = bot.log;
  void [started, outcome, health, state, log, web.app, NonDeterminismError];
}

// The declarations are real types, not \`any\`: each of these must be an error.
// @ts-expect-error a workflow's result needs \`text\`
defineWorkflow({ name: "bad", async run() { return { links: [] }; } });
// @ts-expect-error the input must match the workflow's input type
void runWorkflow(greeting, { topic: 1 });
`,
    );
    // grammY's own declarations import node-fetch, which ships no types: a consumer that checks
    // every .d.ts (skipLibCheck off) declares it, as any strict grammY project has to.
    writeFileSync(path.join(consumer, "shims.d.ts"), `declare module "node-fetch";\n`);
    writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            noEmit: true,
            // Check chatflow's own .d.ts too, against the repository's @types/node.
            skipLibCheck: false,
            typeRoots: [path.join(root, "node_modules", "@types")],
            types: ["node"],
          },
          files: ["shims.d.ts", "check.ts"],
        },
        null,
        2,
      ),
    );
    await run(process.execPath, [tsc, "-p", "tsconfig.json"], consumer, 120_000);
  }, 120_000);
});
