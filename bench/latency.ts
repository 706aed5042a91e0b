/**
 * `npm run bench -- latency`: the latency-1p-1kb workload (fixed 50,000 msg/s of 1 KiB records on
 * one partition) on Tide (default flush and fsync per batch) and the peers. See BENCHMARKS.md.
 */
import type { BenchOptions } from './main.ts';
import { allSystems, type PlanStep, runnable, runSuiteCli, selectSystems } from './omb/suite.ts';

export function latencyPlan(options: BenchOptions): PlanStep[] {
  return [
    { workload: runnable('latency-1p-1kb', options.quick), systems: selectSystems(options, allSystems) },
  ];
}

export async function run(options: BenchOptions): Promise<void> {
  await runSuiteCli('latency', latencyPlan(options), options);
}
