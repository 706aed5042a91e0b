import { errorCodes } from '../protocol/messages/error-codes.ts';
import type { ConfigOperation } from './topic-admin.ts';
import { topicConfigDefinitions, topicConfigProblem } from './topic-config.ts';

/**
 * Checks on topic admin requests that every place accepting them shares (a standalone SPU, the SC):
 * replica assignments, partition counts and incremental config operations. Each returns the Kafka
 * error code and a message for people, or undefined when the input is acceptable.
 */

export interface AdminProblem {
  readonly errorCode: number;
  readonly errorMessage: string;
}

/** Why `replicas` cannot hold `partition` with `replicationFactor` copies on `spuIds`, or undefined. */
export function replicasProblem(
  partition: number,
  replicas: readonly number[],
  replicationFactor: number,
  spuIds: ReadonlySet<number>,
): AdminProblem | undefined {
  const unknown = replicas.find((id) => !spuIds.has(id));
  let reason: string | undefined;
  if (replicas.length === 0) reason = 'no replicas';
  else if (unknown !== undefined) reason = `SPU ${unknown} does not exist`;
  else if (new Set(replicas).size !== replicas.length) reason = 'an SPU appears twice';
  else if (replicas.length !== replicationFactor)
    reason = `${replicas.length} replicas where every partition needs ${replicationFactor}`;
  if (reason === undefined) return undefined;
  return {
    errorCode: errorCodes.INVALID_REPLICA_ASSIGNMENT,
    errorMessage: `invalid assignment for partition ${partition} [${replicas.join(', ')}]: ${reason}`,
  };
}

/** Explicit assignments of a new topic must cover partitions 0..n-1 without gaps. */
export function assignmentsProblem(
  assignments: ReadonlyMap<number, readonly number[]>,
  spuIds: ReadonlySet<number>,
): AdminProblem | undefined {
  const replicationFactor = assignments.get(0)?.length ?? 0;
  for (let partition = 0; partition < assignments.size; partition++) {
    const replicas = assignments.get(partition);
    if (replicas === undefined) {
      return {
        errorCode: errorCodes.INVALID_REPLICA_ASSIGNMENT,
        errorMessage: `assignments must cover partitions 0 to ${assignments.size - 1} without gaps; partition ${partition} is missing`,
      };
    }
    const problem = replicasProblem(partition, replicas, replicationFactor, spuIds);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A new topic's partition count must be 1..partitionsMax. */
export function partitionCountProblem(partitions: number, partitionsMax: number): AdminProblem | undefined {
  if (Number.isInteger(partitions) && partitions >= 1 && partitions <= partitionsMax) return undefined;
  return {
    errorCode: errorCodes.INVALID_PARTITIONS,
    errorMessage: `partitions must be between 1 and ${partitionsMax}, got ${partitions}`,
  };
}

/** CreatePartitions: the new count must be larger than `current` and at most `partitionsMax`. */
export function partitionGrowthProblem(
  topic: string,
  current: number,
  count: number,
  partitionsMax: number,
): AdminProblem | undefined {
  if (!Number.isInteger(count) || count <= current) {
    return {
      errorCode: errorCodes.INVALID_PARTITIONS,
      errorMessage: `topic ${topic} has ${current} partitions; the new count must be larger, got ${count}`,
    };
  }
  if (count > partitionsMax) {
    return {
      errorCode: errorCodes.INVALID_PARTITIONS,
      errorMessage: `at most ${partitionsMax} partitions per topic, got ${count}`,
    };
  }
  return undefined;
}

/** Applies one IncrementalAlterConfigs operation to `configs`; returns a problem or undefined. */
export function applyConfigOperation(
  configs: Record<string, string>,
  name: string,
  operation: ConfigOperation,
  value: string | null,
): string | undefined {
  const definition = topicConfigDefinitions[name];
  if (definition === undefined) return `unknown topic config "${name}"`;
  if (operation === 'delete') {
    delete configs[name];
    return undefined;
  }
  let next = value;
  if (operation === 'append' || operation === 'subtract') {
    if (definition.type !== 'list')
      return `config "${name}" is not a list; ${operation} applies only to lists`;
    const items = (text: string): string[] =>
      text
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
    const current = new Set(items(configs[name] ?? definition.defaultValue));
    for (const part of items(value ?? '')) {
      if (operation === 'append') current.add(part);
      else current.delete(part);
    }
    next = [...current].join(',');
  }
  const problem = topicConfigProblem(name, next);
  if (problem !== undefined || next === null) return problem ?? `config "${name}" needs a value`;
  configs[name] = next;
  return undefined;
}
