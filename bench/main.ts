/**
 * `npm run bench -- <suite> [--duration S] [--quick]`: runs one benchmark suite (a module in this
 * folder exporting `run`) and prints its figures. Suites record their results under bench/results/.
 */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Seconds to measure each case for, when the suite runs by time. */
  readonly durationS: number;
  /** Smaller sizes for a smoke run. */
  readonly quick: boolean;
  /** True when --duration was given (suites with their own default windows use it only then). */
  readonly durationGiven?: boolean;
  /** `--systems a,b`: run only these systems (suites comparing systems). */
  readonly systems?: string;
  /** Extra arguments after the suite name. */
  readonly args: readonly string[];
}

export interface BenchSuite {
  run(options: BenchOptions): Promise<void>;
}

const suites = [
  'micro',
  'storage',
  'spu',
  'client',
  'latency',
  'throughput',
  'replicated',
  'backlog',
  'replication',
  'all',
] as const;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      quick: { type: 'boolean', default: false },
      systems: { type: 'string' },
    },
  });
  const [suite, ...rest] = positionals;
  if (suite === undefined || !(suites as readonly string[]).includes(suite)) {
    process.stderr.write(
      `usage: npm run bench -- <${suites.join('|')}> [--duration S] [--quick] [--systems a,b]\n`,
    );
    process.exitCode = 2;
    return;
  }
  const module = (await import(`./${suite}.ts`)) as BenchSuite;
  await module.run({
    durationS: values.duration === undefined ? 3 : Number(values.duration),
    quick: values.quick ?? false,
    durationGiven: values.duration !== undefined,
    ...(values.systems === undefined ? {} : { systems: values.systems }),
    args: rest,
  });
}

await main();
