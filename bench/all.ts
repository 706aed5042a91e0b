/**
 * `npm run bench -- all`: latency, throughput, replicated (Tide RF 3; the peers' single-node figures
 * come from the latency and throughput steps of the same run) and backlog, over every system, into
 * one result file, one chart and one BENCHMARKS.md section with the goals.
 */
import { backlogPlan } from './backlog.ts';
import { latencyPlan } from './latency.ts';
import type { BenchOptions } from './main.ts';
import { runSuiteCli } from './omb/suite.ts';
import { replicatedNote, replicatedPlan } from './replicated.ts';
import { throughputPlan } from './throughput.ts';

export async function run(options: BenchOptions): Promise<void> {
  const plan = [
    ...latencyPlan(options),
    ...throughputPlan(options),
    ...replicatedPlan(options, false),
    ...backlogPlan(options),
  ];
  await runSuiteCli('all', plan, options, [replicatedNote]);
}
