/**
 * Workloads as data: bench/workloads/<name>.json. A workload is fixed-rate (latency), max-rate
 * (throughput search), backlog (write with the consumer stopped, then drain) or composite (other
 * workloads run on another Tide system, e.g. RF 3). `--quick` applies the file's `quick` overrides.
 */
import { readFileSync } from 'node:fs';
import type { RateSearchOptions } from './rate-search.ts';

export interface SearchSettings extends RateSearchOptions {
  /** Seconds each probe publishes for. */
  readonly probeSeconds: number;
}

interface Common {
  readonly name: string;
  readonly description: string;
  readonly partitions: number;
  readonly messageBytes: number;
  readonly producers: number;
  readonly consumers: number;
}

export interface FixedRateWorkload extends Common {
  readonly kind: 'fixed-rate';
  readonly messagesPerSecond: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

export interface MaxRateWorkload extends Common {
  readonly kind: 'max-rate';
  readonly search: SearchSettings;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

export interface BacklogWorkload extends Common {
  readonly kind: 'backlog';
  readonly backlogBytes: number;
}

export interface CompositeWorkload {
  readonly kind: 'composite';
  readonly name: string;
  readonly description: string;
  readonly workloads: readonly string[];
  readonly tideSystem: string;
}

export type Workload = FixedRateWorkload | MaxRateWorkload | BacklogWorkload | CompositeWorkload;

const workloadDirectory = new URL('../workloads/', import.meta.url);

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new Error(`${what} must be a non-negative number`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the fields the runner relies on; throws with the first problem. */
export function parseWorkload(raw: unknown, quick: boolean): Workload {
  if (!isRecord(raw)) throw new Error('a workload must be a JSON object');
  const merged: Record<string, unknown> =
    quick && isRecord(raw.quick) ? { ...raw, ...raw.quick } : { ...raw };
  delete merged.quick;
  const name = String(merged.name);
  const kind = merged.kind;
  if (kind === 'composite') {
    if (!Array.isArray(merged.workloads)) throw new Error(`${name}: workloads must be a list`);
    return merged as unknown as CompositeWorkload;
  }
  for (const field of ['partitions', 'messageBytes', 'producers', 'consumers'])
    positive(merged[field], `${name}.${field}`);
  if ((merged.messageBytes as number) < 16) throw new Error(`${name}.messageBytes must be at least 16`);
  if (kind === 'fixed-rate') {
    positive(merged.messagesPerSecond, `${name}.messagesPerSecond`);
  } else if (kind === 'max-rate') {
    if (!isRecord(merged.search)) throw new Error(`${name}.search must be an object`);
    for (const field of ['startRate', 'growthFactor', 'backlogMessagesMax', 'settleSteps', 'probeSeconds'])
      positive(merged.search[field], `${name}.search.${field}`);
  } else if (kind === 'backlog') {
    positive(merged.backlogBytes, `${name}.backlogBytes`);
    return merged as unknown as BacklogWorkload;
  } else throw new Error(`${name}: unknown kind ${String(kind)}`);
  positive(merged.warmupSeconds, `${name}.warmupSeconds`);
  positive(merged.durationSeconds, `${name}.durationSeconds`);
  return merged as unknown as Workload;
}

export function loadWorkload(name: string, quick: boolean): Workload {
  const text = readFileSync(new URL(`${name}.json`, workloadDirectory), 'utf8');
  return parseWorkload(JSON.parse(text), quick);
}
