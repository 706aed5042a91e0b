import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { parseBytes, parseDuration } from '../base/units.ts';
import type { Producer, ProducerOptions, ProducerRecord, RecordMetadata } from '../client/producer.ts';
import type { Header } from '../client/records.ts';
import type { Codec } from '../protocol/compression/compression.ts';
import {
  type CliContext,
  type ConnectionFlags,
  collect,
  integerArgument,
  parseFlag,
  UsageError,
  withConnectionOptions,
  withTide,
} from './common.ts';

/**
 * `tide produce TOPIC`: one record per input line (stdin or `-f FILE`), or the whole input as one
 * record with `--raw`. Keys come from `--key` or from splitting each line at `--key-separator`.
 * Silent on success unless `-v`, which prints `partition P offset O` per record as it is
 * acknowledged, in input order. Ctrl-C stops reading and tells how many records were acknowledged.
 */

interface ProduceFlags extends ConnectionFlags {
  readonly key?: string;
  readonly keySeparator?: string;
  readonly file?: string;
  readonly raw: boolean;
  readonly partition?: number;
  readonly compression: Codec;
  readonly linger?: string;
  readonly batchSize?: string;
  readonly acks: string;
  readonly header: string[];
  readonly verbose: boolean;
}

export const produceCliDefaults = Object.freeze({
  sendsInFlightMax: 20_000, // records awaiting acknowledgement before reading more input
  progressEveryBytes: 256 * 1024, // bytes of input between progress bar redraws
  progressBarWidth: 30, // characters
});

export function produceCommand(context: CliContext): Command {
  const command = new Command('produce')
    .description('write records to a topic: one per line of stdin (or of --file)')
    .argument('<topic>', 'topic name')
    .option('--key <key>', 'key of every record')
    .option('--key-separator <sep>', 'split each line at the first <sep> into key and value')
    .option('-f, --file <file>', 'read records from a file instead of stdin')
    .option('--raw', 'send the whole input as one record', false)
    .option('-p, --partition <n>', 'partition to write to (default: by key, or sticky)', integerArgument(0))
    .addOption(
      new Option('--compression <codec>', 'compress batches')
        .choices(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
        .default('none'),
    )
    .option('--linger <duration>', 'wait this long to fill a batch (e.g. 5ms, 0)')
    .option('--batch-size <size>', 'largest batch (e.g. 16KiB, 1MiB)')
    .addOption(
      new Option('--acks <acks>', 'acknowledgements to wait for')
        .choices(['0', '1', 'all', '-1'])
        .default('all'),
    )
    .option('--header <key=value>', 'header added to every record (repeatable)', collect, [])
    .option('-v, --verbose', 'print the partition and offset of each record', false);
  return withConnectionOptions(command).action(async (topic: string, flags: ProduceFlags) => {
    const options = producerOptions(flags);
    const headers = parseHeaders(flags.header);
    if (flags.key !== undefined && flags.keySeparator !== undefined) {
      throw new UsageError('--key and --key-separator cannot be used together');
    }
    await withTide(context, flags, async (tide) => {
      const producer = tide.producer(topic, options);
      const template: Omit<ProducerRecord, 'value'> = {
        headers,
        ...(flags.partition === undefined ? {} : { partition: flags.partition }),
      };
      if (flags.raw) await produceRaw(context, producer, flags, template);
      else await produceLines(context, producer, flags, template);
      await producer.close();
    });
  });
}

function producerOptions(flags: ProduceFlags): ProducerOptions {
  const lingerMs =
    flags.linger === undefined
      ? undefined
      : parseFlag('--linger', flags.linger, (text) =>
          /^\d+$/.test(text.trim()) ? Number(text) : parseDuration(text),
        );
  const batchBytes =
    flags.batchSize === undefined ? undefined : parseFlag('--batch-size', flags.batchSize, parseBytes);
  if (batchBytes !== undefined && batchBytes < 1)
    throw new UsageError('--batch-size must be at least 1 byte');
  return {
    acks: flags.acks === 'all' ? 'all' : (Number(flags.acks) as 0 | 1 | -1),
    compression: flags.compression,
    ...(lingerMs === undefined ? {} : { lingerMs }),
    ...(batchBytes === undefined ? {} : { batchBytes }),
  };
}

export function parseHeaders(pairs: readonly string[]): Header[] {
  return pairs.map((pair) => {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--header expects key=value, got "${pair}"`);
    return { key: pair.slice(0, equals), value: Buffer.from(pair.slice(equals + 1), 'utf8') };
  });
}

async function produceRaw(
  context: CliContext,
  producer: Producer,
  flags: ProduceFlags,
  template: Omit<ProducerRecord, 'value'>,
): Promise<void> {
  const chunks: Buffer[] = [];
  const input = flags.file === undefined ? process.stdin : createReadStream(flags.file);
  for await (const chunk of input) chunks.push(chunk as Buffer);
  const result = await producer.send({ ...template, key: flags.key ?? null, value: Buffer.concat(chunks) });
  if (flags.verbose) printResult(context, result);
}

async function produceLines(
  context: CliContext,
  producer: Producer,
  flags: ProduceFlags,
  template: Omit<ProducerRecord, 'value'>,
): Promise<void> {
  const input = flags.file === undefined ? process.stdin : createReadStream(flags.file);
  const progress =
    flags.file !== undefined && context.stderr.isTTY === true
      ? new ProgressBar(context, (await stat(flags.file)).size)
      : undefined;
  const pending: Promise<RecordMetadata>[] = [];
  let pendingAt = 0;
  let acknowledged = 0;
  const settleOldest = async (): Promise<void> => {
    await pending[pendingAt]!;
    pendingAt++;
  };
  // With -v each offset is printed as soon as its record is acknowledged, in input order.
  let printed: Promise<void> = Promise.resolve();
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  // Ctrl-C stops reading; what was read is still sent, and the count of acknowledged records told.
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    lines.close();
    input.destroy();
  };
  process.once('SIGINT', interrupt);
  try {
    for await (const line of lines) {
      progress?.advance(Buffer.byteLength(line) + 1);
      if (line.length === 0) continue;
      const send = producer.send({ ...template, ...splitLine(line, flags) });
      send.then(
        () => acknowledged++,
        () => undefined,
      );
      if (flags.verbose) {
        printed = printed.then(async () => printResult(context, await send));
        printed.catch(() => undefined);
      }
      await keepBounded(send);
    }
    await producer.flush();
    while (pendingAt < pending.length) await settleOldest();
    await printed;
  } finally {
    process.off('SIGINT', interrupt);
  }
  progress?.finish();
  if (interrupted) throw interruptedError(acknowledged);

  async function keepBounded(send: Promise<RecordMetadata>): Promise<void> {
    // A failure is reported when its turn comes; this keeps it from counting as unhandled meanwhile.
    send.catch(() => undefined);
    pending.push(send);
    if (pending.length - pendingAt >= produceCliDefaults.sendsInFlightMax) {
      await settleOldest();
      if (pendingAt >= produceCliDefaults.sendsInFlightMax) {
        pending.splice(0, pendingAt);
        pendingAt = 0;
      }
    }
  }
}

function interruptedError(acknowledged: number): Error {
  const count = acknowledged.toLocaleString('en-US');
  const records = `record${acknowledged === 1 ? '' : 's'}`;
  return new Error(`interrupted: ${count} ${records} acknowledged; the rest of the input was not sent`);
}

/** Key and value of one input line. */
export function splitLine(line: string, flags: { key?: string; keySeparator?: string }): ProducerRecord {
  if (flags.keySeparator !== undefined && flags.keySeparator !== '') {
    const at = line.indexOf(flags.keySeparator);
    if (at >= 0) return { key: line.slice(0, at), value: line.slice(at + flags.keySeparator.length) };
    return { key: null, value: line };
  }
  return { key: flags.key ?? null, value: line };
}

function printResult(context: CliContext, result: RecordMetadata): void {
  context.stdout.write(`partition ${result.partition} offset ${result.offset}\n`);
}

/** A one-line progress bar on stderr, for files read on an interactive terminal. */
class ProgressBar {
  readonly #context: CliContext;
  readonly #totalBytes: number;
  #doneBytes = 0;
  #drawnAtBytes = 0;

  constructor(context: CliContext, totalBytes: number) {
    this.#context = context;
    this.#totalBytes = Math.max(totalBytes, 1);
  }

  advance(bytes: number): void {
    this.#doneBytes += bytes;
    if (this.#doneBytes - this.#drawnAtBytes >= produceCliDefaults.progressEveryBytes) this.#draw();
  }

  finish(): void {
    this.#doneBytes = this.#totalBytes;
    this.#draw();
    this.#context.stderr.write('\n');
  }

  #draw(): void {
    this.#drawnAtBytes = this.#doneBytes;
    const share = Math.min(this.#doneBytes / this.#totalBytes, 1);
    const width = produceCliDefaults.progressBarWidth;
    const filled = Math.round(share * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    this.#context.stderr.write(`\r${bar} ${(share * 100).toFixed(0).padStart(3)}%`);
  }
}
