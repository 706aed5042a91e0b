import { parseArgs } from 'node:util';
import { stopAll } from '../../src/testing/processes.ts';
import { faultKinds } from './faults.ts';
import { runChaos } from './runner.ts';

/**
 * `npm run chaos -- [--faults N] [--seed S] [--idempotent] [--keep-data] [--hold-ms MIN-MAX]
 * [--kinds kill-leader,cut-spu,…]`:
 * one chaos run against a real local cluster; prints progress, then the summary as JSON. Exits 1
 * when any anomaly was found (the seed is printed to replay the same fault choices).
 */

const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: '20' },
    seed: { type: 'string' },
    idempotent: { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    'hold-ms': { type: 'string' },
    kinds: { type: 'string' },
  },
});

const faults = Number(values.faults);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(faults) || faults < 0 || !Number.isSafeInteger(seed)) {
  console.error('usage: npm run chaos -- [--faults N] [--seed S] [--idempotent] [--keep-data]');
  process.exit(2);
}
const [holdMsMin, holdMsMax] =
  values['hold-ms'] === undefined ? [] : values['hold-ms'].split('-').map(Number);
const kinds = values.kinds?.split(',').map((kind) => {
  const known = faultKinds.find((candidate) => candidate === kind.trim());
  if (known === undefined) {
    console.error(`unknown fault kind "${kind}"; known: ${faultKinds.join(', ')}`);
    process.exit(2);
  }
  return known;
});
const startedAt = new Date().toISOString();
console.log(`chaos: seed ${seed}, ${faults} faults, started ${startedAt}`);
try {
  const summary = await runChaos({
    faults,
    seed,
    idempotent: values.idempotent,
    keepData: values['keep-data'],
    ...(kinds === undefined ? {} : { kinds }),
    ...(holdMsMin === undefined || Number.isNaN(holdMsMin) ? {} : { holdMsMin }),
    ...(holdMsMax === undefined || Number.isNaN(holdMsMax) ? {} : { holdMsMax }),
    log: (line) => console.log(`[${((Date.now() - Date.parse(startedAt)) / 1000).toFixed(1)}s] ${line}`),
  });
  console.log(JSON.stringify(summary, null, 2));
  console.log(summary.passed ? `chaos passed (seed ${seed})` : `chaos FAILED (seed ${seed})`);
  process.exitCode = summary.passed ? 0 : 1;
} catch (error) {
  console.error(`chaos run crashed (seed ${seed}):`, error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
