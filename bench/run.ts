/**
 * `npm run bench`: every benchmark in one run, each beside its baseline, as JSON and tables.
 * Start Node with --expose-gc (the npm script does) for the memory figures.
 */
import { runEngineBench } from "./engine.ts";
import { runLlmBench } from "./llm.ts";
import { machine } from "./machine.ts";
import { runScaleBench } from "./scale.ts";
import { runSchedulerBench } from "./scheduler.ts";
import { runStoreBench } from "./store.ts";
import { runDiscordBench } from "./discord.ts";
import { runSlackBench } from "./slack.ts";
import { runTelegramBench } from "./telegram.ts";
import { runWebBench } from "./web.ts";

const only = process.argv[2];
const results: Record<string, unknown> = { machine: machine(), at: new Date().toISOString() };
if (!only || only === "store") results.store = await runStoreBench();
if (!only || only === "engine") results.engine = await runEngineBench();
if (!only || only === "scheduler") results.scheduler = await runSchedulerBench();
if (!only || only === "telegram") results.telegram = await runTelegramBench();
if (!only || only === "slack") results.slack = await runSlackBench();
if (!only || only === "discord") results.discord = await runDiscordBench();
if (!only || only === "llm") results.llm = await runLlmBench();
if (!only || only === "web") results.web = await runWebBench();
if (!only || only === "scale") results.scale = await runScaleBench();
console.log(JSON.stringify(results, null, 2));
