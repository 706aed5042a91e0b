/**
 * Runs a suite's plan — workloads × systems, Tide and peers interleaved so drift on a shared machine
 * touches all of them — after measuring the ceilings, then writes the JSON result file and the SVG
 * chart under bench/results/ and appends the Markdown section to BENCHMARKS.md.
 */
import { appendFile, mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SystemName } from '../drivers/driver.ts';
import { describeMachine, textTable } from '../machine.ts';
import type { BenchOptions } from '../main.ts';
import { measureCeilings } from './ceilings.ts';
import { chartSvg, markdownSection } from './report.ts';
import { type RunnableWorkload, runOne } from './runner.ts';
import { type ResultFile, type RunResult, resultSchemaVersion, validateResultFile } from './schema.ts';
import { installSignalCleanup, stopEverything } from './servers.ts';
import { loadWorkload } from './workload.ts';

/** The systems a latency or throughput suite compares, interleaved, harness floor first. */
export const allSystems: readonly SystemName[] = [
  'harness-floor',
  'tide',
  'nats-jetstream',
  'tide-fsync',
  'redis-streams',
  'rabbitmq-stream',
];

export interface PlanStep {
  readonly workload: RunnableWorkload;
  readonly systems: readonly SystemName[];
}

const resultsDirectory = fileURLToPath(new URL('../results/', import.meta.url));
const benchmarksPath = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));

/** A runnable workload by name (composite workloads are expanded by the suites). */
export function runnable(name: string, quick: boolean): RunnableWorkload {
  const workload = loadWorkload(name, quick);
  if (workload.kind === 'composite') throw new Error(`${name} is composite`);
  return workload;
}

/** `--systems a,b` (BenchOptions.systems) limits every step to those systems (in the step's order). */
export function selectSystems(options: BenchOptions, systems: readonly SystemName[]): readonly SystemName[] {
  if (options.systems === undefined) return systems;
  const wanted = new Set(options.systems.split(','));
  return systems.filter((system) => wanted.has(system));
}

function summaryLine(run: RunResult): string[] {
  const e2e = run.endToEndLatencyUs;
  return [
    run.workload,
    run.system,
    run.ok ? 'ok' : `FAILED: ${run.error ?? ''}`.slice(0, 60),
    String(run.publish.messagesPerSecond),
    String(run.consume.messagesPerSecond),
    `${e2e.p50}/${e2e.p99}/${e2e.p999}/${e2e.max}`,
    String(run.publishDelayUs.p99),
    `${(run.server.rssMaxBytes / 2 ** 20).toFixed(0)}`,
    String(run.server.cpuPercent),
  ];
}

async function writeOutputs(file: ResultFile): Promise<{ json: string; svg: string }> {
  await mkdir(resultsDirectory, { recursive: true });
  const stamp = file.startedAt.replace(/[:.]/g, '-');
  const base = `omb-${file.suite}${file.quick ? '-quick' : ''}-${stamp}`;
  const json = `bench/results/${base}.json`;
  const svg = `bench/results/${base}.svg`;
  await writeFile(`${resultsDirectory}${base}.json`, `${JSON.stringify(file, null, 2)}\n`);
  await writeFile(`${resultsDirectory}${base}.svg`, chartSvg(file));
  const exists = await stat(benchmarksPath).then(
    () => true,
    () => false,
  );
  if (!exists) await writeFile(benchmarksPath, benchmarksHeader);
  await appendFile(benchmarksPath, `\n${markdownSection(file, { json, svg })}`);
  return { json, svg };
}

/** The top of a new BENCHMARKS.md: how to run the suites and how the figures are taken. */
const benchmarksHeader = `# Benchmarks

OMB-style runs of Tide beside NATS JetStream, Redis Streams and RabbitMQ, all driven from one Node
process on the same machine (\`npm run bench:setup\` once, then \`npm run bench -- all\`, or one of
\`latency\`, \`throughput\`, \`replicated\`, \`backlog\`; \`--quick\` for a smoke run, \`--duration S\` for the
measured window, \`--systems a,b\` to pick systems). Workloads are data: bench/workloads/*.json. Each
section below is one run, newest last; its JSON (schema in bench/omb/schema.ts) and SVG chart are in
bench/results/.

How the figures are taken:
- The producer keeps a fixed-rate schedule (message i is due at start + i/rate). Publish delay is how
  late each message left against its slot: when a system (or the machine) pushes back it grows,
  instead of the producer quietly sending less, so latency figures are not blind to coordinated
  omission. At most 20,000 messages are unacknowledged at once.
- End-to-end latency: the producer writes \`process.hrtime.bigint()\` into the payload; the consumer, in
  the same process, subtracts it from its own clock on arrival. Publish latency: send to ack.
  Percentiles come from HDR histograms (3 significant digits), in µs.
- Max rate (throughput): probes raise the rate (×2) until the publish backlog (due, not acked) or the
  receive backlog (acked, not received) passes 1,000 messages at the end of a probe, then bisect; the
  measured window runs at the settled rate.
- Server RSS and CPU are sampled every second from /proc/<pid>/status and /proc/<pid>/stat.
- Ceilings (sequential write, one loopback connection) are measured in the same run; throughput is
  also given as a fraction of each.
- Each system's durability (what an acknowledgement promises) is printed beside its figures. Tide runs
  twice: its default flush policy (fsync at least every second) and flush.messages=1 (fsync before
  every ack), to compare like with like.
`;

export interface SuiteRun {
  readonly file: ResultFile;
  readonly paths: { json: string; svg: string };
}

export async function runSuite(
  suite: string,
  plan: readonly PlanStep[],
  options: BenchOptions,
  notes: readonly string[] = [],
): Promise<SuiteRun> {
  installSignalCleanup();
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  log(`${suite}: measuring ceilings…`);
  const ceilings = await measureCeilings({ quick: options.quick });
  log(
    `  sequential write ${(ceilings.sequentialWriteBytesPerSecond / 1e9).toFixed(2)} GB/s, loopback ${(ceilings.loopbackBytesPerSecond / 1e9).toFixed(2)} GB/s`,
  );
  const context = {
    ceilings,
    log,
    ...(options.durationGiven === true ? { durationSeconds: options.durationS } : {}),
  };
  const runs: RunResult[] = [];
  try {
    for (const step of plan) {
      for (const system of step.systems) {
        log(`  ${step.workload.name} on ${system}…`);
        const run = await runOne(system, step.workload, context);
        log(
          `    ${run.ok ? `${run.publish.messagesPerSecond} msg/s, e2e p99 ${run.endToEndLatencyUs.p99} µs` : `failed: ${run.error}`}`,
        );
        runs.push(run);
      }
    }
  } finally {
    await stopEverything();
  }
  const load = os.loadavg();
  const file: ResultFile = {
    schemaVersion: resultSchemaVersion,
    suite,
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    machine,
    ceilings,
    notes: [
      `load average at start ${machine.loadAverage1m.toFixed(2)}, at end ${(load[0] ?? 0).toFixed(2)} (1 min); the client (one Node process producing and consuming) and the servers share the machine's ${machine.cores} cores`,
      ...notes,
    ],
    runs,
  };
  const problems = validateResultFile(file);
  if (problems.length > 0) throw new Error(`result file does not match its schema: ${problems.join('; ')}`);
  const paths = await writeOutputs(file);
  log('');
  log(
    textTable(
      [
        'workload',
        'system',
        'status',
        'pub msg/s',
        'cons msg/s',
        'e2e µs p50/p99/p99.9/max',
        'delay p99 µs',
        'RSS MiB',
        'CPU %',
      ],
      runs.map(summaryLine),
    ),
  );
  log(`\nwrote ${paths.json}, ${paths.svg}; appended to BENCHMARKS.md`);
  return { file, paths };
}

/** Runs the suite and sets a failing exit code when any run failed. */
export async function runSuiteCli(
  suite: string,
  plan: readonly PlanStep[],
  options: BenchOptions,
  notes: readonly string[] = [],
): Promise<void> {
  const { file } = await runSuite(suite, plan, options, notes);
  if (file.runs.some((run) => !run.ok)) process.exitCode = 1;
}
