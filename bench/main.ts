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
  /** Extra arguments after the suite name. */
  readonly args: readonly string[];
}

export interface BenchSuite {
  run(options: BenchOptions): Promise<void>;
}

const suites = ['micro', 'storage', 'spu', 'client'] as const;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { duration: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const [suite, ...rest] = positionals;
  if (suite === undefined || !(suites as readonly string[]).includes(suite)) {
    process.stderr.write(`usage: npm run bench -- <${suites.join('|')}> [--duration S] [--quick]\n`);
    process.exitCode = 2;
    return;
  }
  const module = (await import(`./${suite}.ts`)) as BenchSuite;
  await module.run({
    durationS: values.duration === undefined ? 3 : Number(values.duration),
    quick: values.quick ?? false,
    args: rest,
  });
}

await main();
