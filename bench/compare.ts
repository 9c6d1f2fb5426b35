/**
 * What the adapter benchmarks share: interleaved rounds of variants, and their figures as
 * medians with spread. Each figure stands beside a baseline measured in the same run.
 */

/** One round's rates: items per second of wall-clock time, and per second of this process's CPU time. */
export interface Rate {
  wall: number;
  cpu: number;
}

/** Median, quartiles and range of some values. */
export interface Spread {
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
}

export function spread(values: number[], digits = 0): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  };
  const round = (value: number) => +value.toFixed(digits) || 0;
  return { median: round(at(0.5)), q1: round(at(0.25)), q3: round(at(0.75)), min: round(sorted[0]!), max: round(sorted.at(-1)!) };
}

/** How much slower `adapter` is than `bare`, in % of the adapter's time per item. */
export function percent(bare: number, adapter: number): number {
  return +((bare / adapter - 1) * 100).toFixed(1);
}

/** Measures `count` items: wall-clock and CPU rates between `begin()` and the end of `wait()`. */
export async function measure(count: number, begin: () => void, wait: () => Promise<void>): Promise<Rate> {
  begin();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await wait();
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wall: (count / elapsed) * 1000, cpu: count / ((used.user + used.system) / 1e6) };
}

/**
 * Runs the variants in `rounds` interleaved rounds after `warmup` discarded ones (JIT, module
 * loading, the fake's spec), rotating their order each round, with a GC between rounds.
 * Returns each variant's rates, the overhead of `adapter` over `bare` from the medians and per
 * round, by wall-clock time (the target's measure) and by CPU time (steadier when other
 * processes compete for the cores: waiting for a core is not counted).
 */
export async function compareVariants<V extends string>(options: {
  variants: readonly V[];
  bare: V;
  adapter: V;
  rounds: number;
  warmup: number;
  run: (variant: V) => Promise<Rate>;
}): Promise<{ rates: Record<string, Spread>; ratesPerCpuSecond: Record<string, Spread>; medians: Record<string, number>; overheadPercent: number; overheadPerRoundPercent: Spread; cpuOverheadPercent: number; gcBetweenRounds: boolean }> {
  const { variants, rounds, warmup } = options;
  const rates = new Map<V, Rate[]>(variants.map((v) => [v, []]));
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < warmup + rounds; i++) {
    const order = variants.map((_, k) => variants[(i + k) % variants.length]!);
    for (const variant of order) {
      gc?.();
      const rate = await options.run(variant);
      if (i >= warmup) rates.get(variant)!.push(rate);
    }
  }
  const wall = (variant: V) => rates.get(variant)!.map((r) => r.wall);
  const cpu = (variant: V) => rates.get(variant)!.map((r) => r.cpu);
  const median = (values: number[]) => spread(values, 3).median;
  const bare = wall(options.bare);
  const adapter = wall(options.adapter);
  return {
    rates: Object.fromEntries(variants.map((v) => [v, spread(wall(v))])),
    ratesPerCpuSecond: Object.fromEntries(variants.map((v) => [v, spread(cpu(v))])),
    medians: Object.fromEntries(variants.map((v) => [v, Math.round(median(wall(v)))])),
    overheadPercent: percent(median(bare), median(adapter)),
    overheadPerRoundPercent: spread(bare.map((b, i) => percent(b, adapter[i]!)), 1),
    cpuOverheadPercent: percent(median(cpu(options.bare)), median(cpu(options.adapter))),
    gcBetweenRounds: gc !== undefined,
  };
}

/** The overhead figures every comparison reports, from what compareVariants returned. */
export function overheadFigures(r: Awaited<ReturnType<typeof compareVariants>>): Pick<typeof r, "overheadPercent" | "overheadPerRoundPercent" | "cpuOverheadPercent" | "rates"> {
  return { overheadPercent: r.overheadPercent, overheadPerRoundPercent: r.overheadPerRoundPercent, cpuOverheadPercent: r.cpuOverheadPercent, rates: r.rates };
}

/** A spread as `median (IQR q1–q3, min–max a–b)`. */
export function formatSpread(s: Spread, unit = ""): string {
  const n = (value: number) => value.toLocaleString("en");
  return `${n(s.median)}${unit} (IQR ${n(s.q1)}–${n(s.q3)}, min–max ${n(s.min)}–${n(s.max)})`;
}

/**
 * Counts the answered calls of one method a fake recorded, incrementally (a filter over every
 * call on each check would be quadratic).
 */
export function answeredCalls(calls: ReadonlyArray<{ method: string; status: number }>, method: string): () => number {
  let seen = 0;
  let answered = 0;
  return () => {
    for (; seen < calls.length; seen++) {
      const call = calls[seen]!;
      if (call.method === method && call.status === 200) answered++;
    }
    return answered;
  };
}

/** A comparison's figures as summary lines: each variant's rate, then the overhead beside the baseline. */
export function comparisonLines(r: Record<string, unknown>): string[] {
  const rates = r.rates as Record<string, Spread>;
  const pad = Math.max(...Object.keys(rates).map((v) => v.length)) + 2;
  return [
    ...Object.entries(rates).map(([variant, s]) => `  ${variant.padEnd(pad)} ${formatSpread(s)}`),
    `  overhead from medians ${String(r.overheadPercent)}%; per round ${formatSpread(r.overheadPerRoundPercent as Spread, "%")}; by CPU time ${String(r.cpuOverheadPercent)}%; target ${String(r.target)}`,
  ];
}
