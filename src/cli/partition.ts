import { setTimeout as delay } from 'node:timers/promises';
import { Command } from 'commander';
import { formatBytes } from '../base/units.ts';
import type { PartitionReassignment, PartitionStatus } from '../client/admin-types.ts';
import type { Tide } from '../client/tide.ts';
import {
  type CliContext,
  type ConnectionFlags,
  integerArgument,
  type OutputFormat,
  parseFlag,
  printData,
  printTable,
  UsageError,
  withConnectionOptions,
  withOutputOption,
  withTide,
} from './common.ts';
import { partitionState } from './partition-state.ts';

/**
 * `tide partition list`: every partition with leader, replicas, ISR, per-replica lag and offsets.
 * `tide partition reassign`: moves a partition's replicas to other SPUs (or cancels a move).
 * `tide partition reassignments`: the moves in progress.
 */

export const partitionCliDefaults = Object.freeze({
  waitTimeoutMs: 600_000, // ms `reassign --wait` waits for the move to finish
  pollIntervalMs: 500, // ms between checks while waiting
});

export function partitionCommand(context: CliContext): Command {
  return new Command('partition')
    .description('inspect and move partitions')
    .addCommand(listCommand(context))
    .addCommand(reassignCommand(context))
    .addCommand(reassignmentsCommand(context));
}

function listCommand(context: CliContext): Command {
  const list = new Command('list')
    .description(
      'list partitions: leader, replicas, ISR, lag of each follower (records behind the leader), ' +
        'offsets, size, status, moves in progress',
    )
    .option('-t, --topic <name>', "only this topic's partitions")
    .option('--under-replicated', 'only partitions with a replica out of sync or offline')
    .option('--internal', 'include internal topics (__consumer_offsets)', false);
  withOutputOption(withConnectionOptions(list)).action(
    async (
      flags: ConnectionFlags & {
        output: OutputFormat;
        topic?: string;
        underReplicated?: boolean;
        internal: boolean;
      },
    ) => {
      const all = await withTide(context, flags, (tide) =>
        tide.admin().partitions(flags.topic, { includeInternal: flags.internal }),
      );
      const partitions = flags.underReplicated === true ? all.filter((p) => p.underReplicated) : all;
      if (flags.output !== 'table')
        printData(
          context,
          flags.output,
          partitions.map((p) => ({
            ...p,
            // Unknown is null for scripts, not Kafka's -1.
            leaderId: p.leaderId < 0 ? null : p.leaderId,
            logStartOffset: knownOffset(p.logStartOffset),
            highWatermark: knownOffset(p.highWatermark),
            logEndOffset: knownOffset(p.logEndOffset),
            status: partitionState(p),
          })),
        );
      else if (partitions.length === 0) context.stdout.write('no partitions\n');
      else printPartitions(context, partitions);
    },
  );
  return list;
}

function printPartitions(context: CliContext, partitions: readonly PartitionStatus[]): void {
  printTable(
    context,
    [
      'TOPIC',
      'PARTITION',
      'LEADER',
      'REPLICAS',
      'ISR',
      'LAG',
      'LOG START',
      'HW',
      'LEO',
      'SIZE',
      'STATUS',
      'MOVING',
    ],
    partitions.map((p) => [
      p.topic,
      p.partition,
      p.leaderId < 0 ? null : p.leaderId,
      p.replicas.join(','),
      p.isr.join(','),
      lagText(p),
      offset(p.logStartOffset),
      offset(p.highWatermark),
      offset(p.logEndOffset),
      p.sizeBytes === null ? null : formatBytes(Number(p.sizeBytes)),
      partitionState(p),
      movingText(p),
    ]),
  );
}

/** Followers' lag as `spu=records`, `?` when the leader has not seen the follower fetch yet. */
function lagText(partition: PartitionStatus): string | null {
  const followers = partition.replicaProgress.filter((r) => r.replicaId !== partition.leaderId);
  if (followers.length === 0) return null;
  return followers.map((r) => `${r.replicaId}=${r.lag === null ? '?' : r.lag.toString()}`).join(',');
}

function movingText(
  moving: Pick<PartitionReassignment, 'addingReplicas' | 'removingReplicas'>,
): string | null {
  const parts: string[] = [];
  if (moving.addingReplicas.length > 0) parts.push(`+${moving.addingReplicas.join(',')}`);
  if (moving.removingReplicas.length > 0) parts.push(`-${moving.removingReplicas.join(',')}`);
  return parts.length === 0 ? null : parts.join(' ');
}

interface ReassignFlags extends ConnectionFlags {
  readonly partition: number;
  readonly replicas?: string;
  readonly cancel?: boolean;
  readonly wait?: boolean;
  readonly timeoutMs: number;
}

function reassignCommand(context: CliContext): Command {
  const reassign = new Command('reassign')
    .description(
      "move a partition's replicas to other SPUs: the new SPUs copy the data and join the ISR, " +
        'leadership moves if the leader leaves, then the old replicas are deleted',
    )
    .argument('<topic>', 'topic name')
    .requiredOption('-p, --partition <index>', 'partition index', integerArgument(0))
    .option('-r, --replicas <ids>', 'target SPU ids, preferred leader first (e.g. 2,3,1)')
    .option('--cancel', 'cancel the move in progress (back to the original replicas)')
    .option('--wait', 'wait until the move has finished')
    .option(
      '--timeout-ms <ms>',
      'longest --wait waits',
      integerArgument(1),
      partitionCliDefaults.waitTimeoutMs,
    );
  withConnectionOptions(reassign).action(async (topic: string, flags: ReassignFlags) => {
    if ((flags.replicas === undefined) === (flags.cancel !== true))
      throw new UsageError('give either --replicas <ids> or --cancel');
    const replicas =
      flags.replicas === undefined ? null : parseFlag('--replicas', flags.replicas, parseSpuIds);
    await withTide(context, flags, async (tide) => {
      const [result] = await tide
        .admin()
        .reassignPartitions([{ topic, partition: flags.partition, replicas }]);
      if (result?.error) throw result.error;
      const what = `${topic} partition ${flags.partition}`;
      if (replicas === null) context.stdout.write(`cancelled the move of ${what}\n`);
      else context.stdout.write(`moving ${what} to SPUs ${replicas.join(',')}\n`);
      if (flags.wait === true) await waitForMove(context, tide, topic, flags.partition, flags.timeoutMs);
    });
  });
  return reassign;
}

/** `2,3,1` → [2, 3, 1]; the controller checks that the SPUs exist and are distinct. */
function parseSpuIds(text: string): number[] {
  const ids = text.split(',').map((part) => part.trim());
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id)))
    throw new Error(`expected SPU ids separated by commas, got "${text}"`);
  return ids.map(Number);
}

async function waitForMove(
  context: CliContext,
  tide: Tide,
  topic: string,
  partition: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const admin = tide.admin();
  for (;;) {
    const moving = (await admin.listPartitionReassignments([topic])).find((m) => m.partition === partition);
    if (moving === undefined) break;
    if (performance.now() >= deadline)
      throw new Error(`the move of ${topic} partition ${partition} has not finished after ${timeoutMs} ms`);
    await delay(partitionCliDefaults.pollIntervalMs);
  }
  const [done] = (await admin.partitions(topic)).filter((p) => p.partition === partition);
  const placement =
    done === undefined ? '' : `: replicas ${done.replicas.join(',')}, leader ${done.leaderId}`;
  context.stdout.write(`done${placement}\n`);
}

function reassignmentsCommand(context: CliContext): Command {
  const command = new Command('reassignments')
    .description('list partition moves in progress')
    .option('-t, --topic <name>', "only this topic's partitions");
  withOutputOption(withConnectionOptions(command)).action(
    async (flags: ConnectionFlags & { output: OutputFormat; topic?: string }) => {
      const moves = await withTide(context, flags, (tide) =>
        tide.admin().listPartitionReassignments(flags.topic === undefined ? undefined : [flags.topic]),
      );
      if (flags.output !== 'table') printData(context, flags.output, moves);
      else if (moves.length === 0) context.stdout.write('no partition moves in progress\n');
      else
        printTable(
          context,
          ['TOPIC', 'PARTITION', 'REPLICAS', 'ADDING', 'REMOVING'],
          moves.map((m) => [
            m.topic,
            m.partition,
            m.replicas.join(','),
            m.addingReplicas.join(',') || null,
            m.removingReplicas.join(',') || null,
          ]),
        );
    },
  );
  return command;
}

function offset(value: bigint): string | null {
  return value < 0n ? null : value.toString();
}

function knownOffset(value: bigint): bigint | null {
  return value < 0n ? null : value;
}
