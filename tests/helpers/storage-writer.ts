/**
 * Child process for tests/storage-crash.test.ts: appends to a partition log as fast as it can with
 * flush.messages=1 and several concurrent appenders, printing `durable <offset>` each time an append
 * resolves (everything below <offset> is fsynced). The parent kills it with SIGKILL at a random point.
 *
 * Every record's value is a function of its offset (see `valueFor`), which the appender can predict
 * because appends are applied in call order; the parent checks stored records against it.
 *
 * Usage: node --import tsx tests/helpers/storage-writer.ts <dir> <segmentBytes>
 */
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { PartitionLog } from '../../src/storage/partition-log.ts';

export function valueFor(offset: bigint): Buffer {
  const size = 20 + Number(offset % 300n);
  const value = Buffer.alloc(size, Number(offset % 26n) + 97);
  value.write(`#${offset}#`, 0, 'latin1');
  return value;
}

export function recordsPerBatch(batchIndex: bigint): number {
  return 1 + Number(batchIndex % 7n);
}

async function main(): Promise<void> {
  const [dir, segmentBytes] = process.argv.slice(2);
  if (dir === undefined || segmentBytes === undefined)
    throw new Error('usage: storage-writer <dir> <segmentBytes>');
  const log = await PartitionLog.open({
    dir,
    config: { flushMessages: 1, segmentBytes: Number(segmentBytes), indexIntervalBytes: 512 },
  });
  let next = log.logEndOffset;
  let batchIndex = 0n;
  process.stdout.write(`ready ${next}\n`);
  const appendOne = (): Promise<void> => {
    const count = recordsPerBatch(batchIndex++);
    const base = next;
    next += BigInt(count);
    const batch = encodeRecordBatch({
      records: Array.from({ length: count }, (_, index) => ({
        key: null,
        value: valueFor(base + BigInt(index)),
        timestamp: 1_700_000_000_000n + base + BigInt(index),
      })),
    });
    return log.append([batch], { leaderEpoch: 1 }).then((result) => {
      if (result.baseOffset !== base) throw new Error(`expected base ${base}, got ${result.baseOffset}`);
      process.stdout.write(`durable ${result.logEndOffset}\n`);
    });
  };
  const appenders = Array.from({ length: 4 }, async () => {
    for (;;) await appendOne();
  });
  await Promise.all(appenders);
}

if (process.argv[1]?.endsWith('storage-writer.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
