/**
 * `npm run bench -- backlog`: the backlog-drain workload — write 2 GiB of 1 KiB records with no
 * consumer running (16 MiB with --quick), then start the consumer and measure the drain rate. The
 * harness floor stores nothing, so it has no backlog to drain and is left out.
 */
import type { BenchOptions } from './main.ts';
import { allSystems, type PlanStep, runnable, runSuiteCli, selectSystems } from './omb/suite.ts';

export function backlogPlan(options: BenchOptions): PlanStep[] {
  return [
    {
      workload: runnable('backlog-drain', options.quick),
      systems: selectSystems(
        options,
        allSystems.filter((system) => system !== 'harness-floor'),
      ),
    },
  ];
}

export async function run(options: BenchOptions): Promise<void> {
  await runSuiteCli('backlog', backlogPlan(options), options);
}
