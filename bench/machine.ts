import os from "node:os";

/** The machine a figure was measured on, printed with every benchmark. */
export function machine(): Record<string, string | number> {
  return { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.arch()}` };
}

/** The first line of a benchmark's summary: which benchmark, on what machine. */
export function machineLine(bench: string, m: Record<string, unknown>): string {
  return `${bench} bench on ${String(m.cpu)}, ${String(m.cores)} cores, ${String(m.memoryGiB)} GiB, node ${String(m.node)}, ${String(m.platform)}`;
}
