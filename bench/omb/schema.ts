/**
 * The JSON result file every OMB-style suite writes to bench/results/omb-<suite>-<time>.json, and
 * its validator. `schemaVersion` changes whenever a field changes meaning or disappears; readers
 * reject versions they do not know. Latencies are microseconds, rates per second, sizes bytes.
 */
import type { MachineDescription } from '../machine.ts';
import type { Percentiles } from './histogram.ts';
import type { RateSearchStep } from './rate-search.ts';

export const resultSchemaVersion = 1;

export interface Rate {
  readonly messagesPerSecond: number;
  /** 10^6 bytes of payload per second. */
  readonly megabytesPerSecond: number;
}

export interface ServerUsage {
  /** Resident set size: largest and mean over the one-second samples (summed over the processes). */
  readonly rssMaxBytes: number;
  readonly rssMeanBytes: number;
  /** CPU time over wall time, in percent of one core (200 = both cores of a 2-core machine). */
  readonly cpuPercent: number;
  readonly samples: number;
}

export interface Ceilings {
  /** Sequential write bandwidth, bytes/s, and how it was measured. */
  readonly sequentialWriteBytesPerSecond: number;
  readonly sequentialWriteMethod: string;
  /** One loopback TCP connection between two Node sockets, bytes/s. */
  readonly loopbackBytesPerSecond: number;
}

export interface RunResult {
  /** e.g. "tide", "tide-fsync", "tide-rf3", "nats-jetstream", "redis-streams", "rabbitmq-stream". */
  readonly system: string;
  readonly workload: string;
  readonly version: string;
  /** How durable an acknowledged message is, in words, printed next to the figures. */
  readonly durability: string;
  /** Driver settings that change the figures (batching, acks, pipelining…). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly ok: boolean;
  /** Why the run failed, when it did. */
  readonly error?: string;
  /** Target rate in msg/s (for a max-rate workload: the rate the search settled on). */
  readonly targetRate: number;
  readonly measuredSeconds: number;
  readonly publish: Rate;
  readonly consume: Rate;
  readonly publishLatencyUs: Percentiles;
  readonly endToEndLatencyUs: Percentiles;
  /** How late the producer left against its fixed-rate schedule. */
  readonly publishDelayUs: Percentiles;
  readonly server: ServerUsage;
  /** Publish bandwidth as a fraction of each ceiling. */
  readonly ofSequentialWrite: number;
  readonly ofLoopback: number;
  readonly rateSearch?: readonly RateSearchStep[];
  /** For the backlog workload: how much was written before the consumer started, and the drain. */
  readonly backlog?: { readonly bytes: number; readonly messages: number; readonly drainSeconds: number };
  readonly notes: readonly string[];
}

export interface ResultFile {
  readonly schemaVersion: typeof resultSchemaVersion;
  readonly suite: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly quick: boolean;
  readonly machine: MachineDescription;
  readonly ceilings: Ceilings;
  readonly notes: readonly string[];
  readonly runs: readonly RunResult[];
}

type Check = (value: unknown, path: string, problems: string[]) => void;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const number: Check = (value, path, problems) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    problems.push(`${path}: expected a finite non-negative number`);
};
const string: Check = (value, path, problems) => {
  if (typeof value !== 'string') problems.push(`${path}: expected a string`);
};
const boolean: Check = (value, path, problems) => {
  if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean`);
};

function object(fields: Readonly<Record<string, Check>>, optional: readonly string[] = []): Check {
  return (value, path, problems) => {
    if (!isRecord(value)) {
      problems.push(`${path}: expected an object`);
      return;
    }
    for (const [key, check] of Object.entries(fields)) {
      if (value[key] === undefined && optional.includes(key)) continue;
      check(value[key], `${path}.${key}`, problems);
    }
  };
}

function array(item: Check): Check {
  return (value, path, problems) => {
    if (!Array.isArray(value)) problems.push(`${path}: expected an array`);
    else for (const [index, element] of value.entries()) item(element, `${path}[${index}]`, problems);
  };
}

const percentiles = object({
  count: number,
  p50: number,
  p90: number,
  p99: number,
  p999: number,
  max: number,
  mean: number,
});
const rate = object({ messagesPerSecond: number, megabytesPerSecond: number });
const settingsCheck: Check = (value, path, problems) => {
  if (!isRecord(value)) problems.push(`${path}: expected an object`);
  else
    for (const [key, setting] of Object.entries(value))
      if (!['string', 'number', 'boolean'].includes(typeof setting))
        problems.push(`${path}.${key}: bad setting`);
};
const ordered: Check = (value, path, problems) => {
  if (!isRecord(value)) return;
  const keys = ['p50', 'p90', 'p99', 'p999', 'max'] as const;
  for (let index = 1; index < keys.length; index++) {
    const before = value[keys[index - 1]!];
    const after = value[keys[index]!];
    if (typeof before === 'number' && typeof after === 'number' && before > after)
      problems.push(`${path}: ${keys[index - 1]} > ${keys[index]}`);
  }
};

const latencyCheck: Check = (value, path, problems) => {
  percentiles(value, path, problems);
  ordered(value, path, problems);
};

const runCheck = object(
  {
    system: string,
    workload: string,
    version: string,
    durability: string,
    settings: settingsCheck,
    ok: boolean,
    error: string,
    targetRate: number,
    measuredSeconds: number,
    publish: rate,
    consume: rate,
    publishLatencyUs: latencyCheck,
    endToEndLatencyUs: latencyCheck,
    publishDelayUs: latencyCheck,
    server: object({ rssMaxBytes: number, rssMeanBytes: number, cpuPercent: number, samples: number }),
    ofSequentialWrite: number,
    ofLoopback: number,
    rateSearch: array(
      object({ rate: number, publishBacklog: number, receiveBacklog: number, keptUp: boolean }),
    ),
    backlog: object({ bytes: number, messages: number, drainSeconds: number }),
    notes: array(string),
  },
  ['error', 'rateSearch', 'backlog'],
);

const fileCheck = object({
  schemaVersion: (value, path, problems) => {
    if (value !== resultSchemaVersion) problems.push(`${path}: unknown schema version ${String(value)}`);
  },
  suite: string,
  startedAt: string,
  finishedAt: string,
  quick: boolean,
  machine: object({ cpuModel: string, cores: number, memoryBytes: number, node: string, kernel: string }),
  ceilings: object({
    sequentialWriteBytesPerSecond: number,
    sequentialWriteMethod: string,
    loopbackBytesPerSecond: number,
  }),
  notes: array(string),
  runs: array(runCheck),
});

/** Every problem with `value` as a result file; empty when it is valid. */
export function validateResultFile(value: unknown): string[] {
  const problems: string[] = [];
  fileCheck(value, '$', problems);
  return problems;
}
