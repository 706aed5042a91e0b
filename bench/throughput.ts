/**
 * `npm run bench -- throughput`: the throughput-16p-1kb workload (max-rate search over 16
 * partitions of 1 KiB records, as OMB does) on Tide (both flush policies) and the peers.
 */
import type { BenchOptions } from './main.ts';
import { allSystems, type PlanStep, runnable, runSuiteCli, selectSystems } from './omb/suite.ts';

export function throughputPlan(options: BenchOptions): PlanStep[] {
  return [
    { workload: runnable('throughput-16p-1kb', options.quick), systems: selectSystems(options, allSystems) },
  ];
}

export async function run(options: BenchOptions): Promise<void> {
  await runSuiteCli('throughput', throughputPlan(options), options);
}
