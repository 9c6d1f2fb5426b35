/**
 * Web channel benchmarks (issue 11), `npm run bench -- web` (or
 * `node --expose-gc --import tsx bench/web.ts`): the HTTP API of the web adapter on 127.0.0.1.
 * - bench/web-http.ts: a person's message and a task submitted over HTTP beside the same
 *   submissions in process, a bare node:http server beside both, and the API layer's own cost
 *   per request. Target: HTTP overhead < 30%.
 * - bench/web-sse.ts: events per second to 1,000 SSE clients, and their latency under that
 *   load. Target: p99 < 50 ms on 2 cores.
 * JSON on stdout, a summary with the machine on stderr. About two minutes on 2 cores.
 */
import { pathToFileURL } from "node:url";
import { comparisonLines, formatSpread, type Spread } from "./compare.ts";
import { machine, machineLine } from "./machine.ts";
import { layerBench, messageBench, taskBench } from "./web-http.ts";
import { sseBench } from "./web-sse.ts";

export async function runWebBench(): Promise<Record<string, unknown>> {
  const messages = await messageBench("memory");
  const messagesLowdb = await messageBench("lowdb");
  const tasks = await taskBench();
  const layer = await layerBench();
  const sse = await sseBench();
  const results = { machine: machine(), messages, messagesLowdb, tasks, layer, sse };
  // On stderr, so that stdout stays one JSON document (bench/run.ts).
  console.error(summary(results));
  return results;
}

function summary(results: { machine: Record<string, unknown>; messages: Record<string, unknown>; messagesLowdb: Record<string, unknown>; tasks: Record<string, unknown>; layer: Record<string, unknown>; sse: Record<string, unknown> }): string {
  const m = results.machine;
  const t = results.tasks;
  const lines = [machineLine("web", m)];
  for (const msg of [results.messages, results.messagesLowdb]) {
    lines.push(`messages on the ${String(msg.store)} store (a person's message starting an echo task; ${msg.inFlight} sessions writing at once, to completion): ${msg.messagesPerRound} × ${msg.rounds} interleaved rounds (+${msg.warmupRounds} warm-up), messages/s median (spread):`);
    lines.push(...comparisonLines(msg));
    lines.push(`  by CPU time: node:http + bot.handle beside bot.handle ${String(msg.bareCpuOverheadPercent)}% (the floor of an HTTP front end); the chatflow API beside node:http ${String(msg.apiOverBareCpuPercent)}%`);
  }
  lines.push(`tasks (echo, ${t.inFlight} in flight, to completion): ${t.tasksPerRound} tasks × ${t.rounds} interleaved rounds (+${t.warmupRounds} warm-up), tasks/s median (spread):`);
  lines.push(...comparisonLines(t));
  lines.push(`the API layer alone (an engine that answers at once), server CPU µs per request, median (spread) of ${String(results.layer.rounds)} rounds of ${String(results.layer.requestsPerRound)}:`);
  for (const [name, s] of Object.entries(results.layer.serverCpuMicrosecondsPerRequest as Record<string, Spread>)) lines.push(`  ${name.padEnd(28)} ${formatSpread(s, " µs")}`);
  // A request sent again is one the server reset on an idle keep-alive connection (bench/web-http.ts).
  const resent = [results.messages, results.messagesLowdb, t, results.layer].reduce((sum, r) => sum + Number(r.requestsSentAgain ?? 0), 0);
  lines.push(`requests sent again after a reset on an idle keep-alive connection: ${resent}`);
  for (const name of ["fanout", "spread"] as const) {
    const load = results.sse[name] as Record<string, any>;
    lines.push(`SSE ${name}: ${load.clients} clients on ${load.sessions} session(s), all open in ${load.openAllMs} ms`);
    for (const p of [load.burst, ...load.paced]) {
      const how = p.burst ? `burst of ${p.events} events` : `${p.pacedEventsPerSecond} events/s, ${p.events} events`;
      lines.push(`  ${how}: ${p.deliveries.toLocaleString("en")} deliveries, ${p.deliveriesPerSecond.toLocaleString("en")}/s; latency p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms, max ${p.latencyMs.max} ms${p.burst ? " (queued behind the burst)" : " (target p99 < 50 ms)"}`);
    }
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runWebBench(), null, 2));
}
