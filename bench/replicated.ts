/**
 * `npm run bench -- replicated`: the replicated-rf3 workload — latency-1p-1kb and
 * throughput-16p-1kb on a 3-SPU Tide cluster (RF 3, acks=all, min ISR 2). The peers run their
 * single-node setup beside it (unless `all` already ran them), and the report says so.
 */
import type { SystemName } from './drivers/driver.ts';
import { peerSystems } from './drivers/driver.ts';
import type { BenchOptions } from './main.ts';
import { type PlanStep, runnable, runSuiteCli, selectSystems } from './omb/suite.ts';
import { loadWorkload } from './omb/workload.ts';

export const replicatedNote =
  'replicated-rf3: Tide runs a 3-SPU cluster (RF 3, acks=all, min.insync.replicas=2); NATS JetStream, Redis and RabbitMQ run their single-node setup (1 replica), so their figures are not replicated';

export function replicatedPlan(options: BenchOptions, withPeers: boolean): PlanStep[] {
  const composite = loadWorkload('replicated-rf3', options.quick);
  if (composite.kind !== 'composite') throw new Error('replicated-rf3 must be a composite workload');
  const systems: SystemName[] = [composite.tideSystem as SystemName, ...(withPeers ? peerSystems : [])];
  return composite.workloads.map((name) => ({
    workload: runnable(name, options.quick),
    systems: selectSystems(options, systems),
  }));
}

export async function run(options: BenchOptions): Promise<void> {
  await runSuiteCli('replicated', replicatedPlan(options, true), options, [replicatedNote]);
}
