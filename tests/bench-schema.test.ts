import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeMachine } from '../bench/machine.ts';
import { LatencyHistogram } from '../bench/omb/histogram.ts';
import { goalRows, markdownSection } from '../bench/omb/report.ts';
import {
  type ResultFile,
  type RunResult,
  resultSchemaVersion,
  validateResultFile,
} from '../bench/omb/schema.ts';

function latency(values: readonly number[]) {
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.recordUs(value);
  return histogram.percentiles();
}

function run(system: string, workload: string, messagesPerSecond: number, p99Us: number): RunResult {
  return {
    system,
    workload,
    version: '1.0',
    durability: 'fsync every second',
    settings: { acks: 'all', lingerMs: 1, pipelining: true },
    ok: true,
    targetRate: 50_000,
    measuredSeconds: 30,
    publish: { messagesPerSecond, megabytesPerSecond: (messagesPerSecond * 1024) / 1e6 },
    consume: { messagesPerSecond, megabytesPerSecond: (messagesPerSecond * 1024) / 1e6 },
    publishLatencyUs: latency([100, 200, p99Us]),
    endToEndLatencyUs: latency([...Array.from({ length: 98 }, () => 300), p99Us, p99Us]),
    publishDelayUs: latency([1, 2, 3]),
    server: { rssMaxBytes: 80 * 2 ** 20, rssMeanBytes: 70 * 2 ** 20, cpuPercent: 55.5, samples: 31 },
    ofSequentialWrite: 0.1,
    ofLoopback: 0.02,
    notes: [],
  };
}

function file(runs: readonly RunResult[]): ResultFile {
  return {
    schemaVersion: resultSchemaVersion,
    suite: 'all',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    quick: false,
    machine: describeMachine(),
    ceilings: {
      sequentialWriteBytesPerSecond: 1e9,
      sequentialWriteMethod: 'fio',
      loopbackBytesPerSecond: 2e9,
    },
    notes: ['loaded machine'],
    runs,
  };
}

const sample = file([
  run('tide', 'latency-1p-1kb', 50_000, 1_500),
  run('redis-streams', 'latency-1p-1kb', 50_000, 900),
  run('tide', 'throughput-16p-1kb', 160_000, 20_000),
  run('redis-streams', 'throughput-16p-1kb', 100_000, 30_000),
]);

describe('result schema', () => {
  it('accepts a well-formed file, also after a JSON round trip', () => {
    assert.deepEqual(validateResultFile(sample), []);
    assert.deepEqual(validateResultFile(JSON.parse(JSON.stringify(sample))), []);
  });

  it('rejects an unknown schema version', () => {
    const problems = validateResultFile({ ...sample, schemaVersion: 99 });
    assert.ok(
      problems.some((problem) => problem.includes('schema version')),
      problems.join('\n'),
    );
  });

  it('names missing and mistyped fields by path', () => {
    const broken = JSON.parse(JSON.stringify(sample)) as Record<string, unknown> & {
      runs: Record<string, unknown>[];
    };
    delete broken.runs[1]!.durability;
    broken.runs[2]!.publish = { messagesPerSecond: -1, megabytesPerSecond: 'fast' };
    const problems = validateResultFile(broken);
    assert.ok(problems.includes('$.runs[1].durability: expected a string'), problems.join('\n'));
    assert.ok(
      problems.includes('$.runs[2].publish.messagesPerSecond: expected a finite non-negative number'),
    );
    assert.ok(
      problems.includes('$.runs[2].publish.megabytesPerSecond: expected a finite non-negative number'),
    );
  });

  it('rejects percentiles out of order', () => {
    const broken = JSON.parse(JSON.stringify(sample)) as { runs: { endToEndLatencyUs: { p99: number } }[] };
    broken.runs[0]!.endToEndLatencyUs.p99 = 1e9;
    assert.ok(validateResultFile(broken).some((problem) => problem.includes('p99 > p999')));
  });

  it('rejects a non-object and a run list that is not a list', () => {
    assert.deepEqual(validateResultFile(null), ['$: expected an object']);
    assert.ok(validateResultFile({ ...sample, runs: {} }).includes('$.runs: expected an array'));
  });
});

describe('report', () => {
  it('checks the goals from the runs it has', () => {
    const rows = goalRows(sample);
    const text = rows.map((row) => row.join(' | ')).join('\n');
    assert.match(text, /throughput ≥ 1.5× best peer \| 1.60× redis-streams \| met/);
    assert.match(text, /RF 1 e2e p99 ≤ 2.0 ms.* \| 1.5 ms \| met/);
    assert.match(text, /of sequential write \| 10.0 % \| \*\*not met\*\*/);
    assert.ok(!text.includes('RF 3'), 'no RF 3 run, so no RF 3 goal');
  });

  it('prints every system with its durability and the Tide/peer ratios', () => {
    const markdown = markdownSection(sample, { json: 'a.json', svg: 'a.svg' });
    assert.match(markdown, /\| redis-streams \| 1.0 \| fsync every second \|/);
    assert.match(markdown, /tide \/ redis-streams \| 1.60× \|/);
    assert.match(markdown, /\[a.svg\]\(a.svg\)/);
  });
});
