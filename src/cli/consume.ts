import { once } from 'node:events';
import { Command, Option } from 'commander';
import type { ConsumerOptions, ConsumerRecord } from '../client/consumer.ts';
import type { GroupConsumerOptions } from '../client/group-consumer.ts';
import { Offset } from '../client/offset.ts';
import type { Isolation } from '../client/offset-lookup.ts';
import {
  type CliContext,
  type ConnectionFlags,
  cliDefaults,
  collect,
  integerArgument,
  parseFlag,
  sayWaiting,
  UsageError,
  withConnectionOptions,
  withTide,
} from './common.ts';
import {
  type ByteEncoding,
  byteEncodings,
  type ConsumeFormat,
  consumeFormats,
  type Render,
  renderer,
  tableHeading,
  unescapeSeparator,
} from './consume-output.ts';

/**
 * `tide consume TOPIC`: prints records of every partition (or of `-p`), by default from the end and
 * continuously. Start: `-B` beginning, `-T N` the last N, `-H N` the first N (then stop), `--start
 * OFFSET`; stop: `--end OFFSET` (inclusive) or `-d` at the end as it was when consuming began.
 * Output: the value (`-k` prefixes `[key] `), a `-F` template, or `-O json|yaml|raw|table` (see
 * consume-output.ts); `--encoding base64|hex` for binary keys and values.
 * `--group G` reads as a member of consumer group G instead: the group shares the partitions among its
 * members and each starts at the group's committed offset (`-B`: partitions without one start at the
 * beginning, else at the end); positions are committed as records are printed and on exit.
 * `--max-records N` stops after N records in all.
 */

interface ConsumeFlags extends ConnectionFlags {
  readonly partition: string[];
  readonly beginning: boolean;
  readonly tail?: number;
  readonly head?: number;
  readonly start?: string;
  readonly end?: string;
  readonly disableContinuous: boolean;
  readonly keyValue: boolean;
  readonly format?: string;
  readonly output: ConsumeFormat;
  readonly encoding: ByteEncoding;
  readonly separator: string;
  readonly isolation: Isolation;
  readonly maxWait?: number;
  readonly group?: string;
  readonly maxRecords?: number;
}

/** The `consume` command and its options, before the connection options. */
function consumeCommandOptions(): Command {
  return new Command('consume')
    .description('print records of a topic (default: all partitions, new records, until interrupted)')
    .argument('<topic>', 'topic name')
    .option('-p, --partition <n>', 'partition to read (repeatable; default all)', collect, [])
    .option(
      '-B, --beginning',
      'start at the beginning of each partition (with --group: of those without a committed offset)',
      false,
    )
    .option('-T, --tail <n>', 'start <n> records before the end of each partition', integerArgument(0))
    .option('-H, --head <n>', 'read the first <n> records of each partition, then stop', integerArgument(0))
    .option('--start <offset>', 'start at this offset')
    .option('--end <offset>', 'stop after this offset (inclusive)')
    .option('-d, --disable-continuous', 'stop at the end instead of waiting for new records', false)
    .option('-k, --key-value', 'print keys as well ([key] value)', false)
    .option(
      '-F, --format <template>',
      'template per record: {{offset}} {{key}} {{value}} {{partition}} {{timestamp}} {{headers}}',
    )
    .addOption(
      new Option('-O, --output <format>', 'output format (yaml: a document per record)')
        .choices(consumeFormats)
        .default('text'),
    )
    .addOption(
      new Option(
        '--encoding <encoding>',
        'how keys, values and headers are printed (binary data: base64, hex)',
      )
        .choices(byteEncodings)
        .default('utf8'),
    )
    .addOption(
      new Option(
        '--separator <text>',
        'written after each value with -O raw (\\n, \\t, \\0 escapes; "" for none)',
      ).default('\\n', 'a newline'),
    )
    .addOption(
      new Option('--isolation <level>', 'which records to read')
        .choices(['read_uncommitted', 'read_committed'])
        .default('read_uncommitted'),
    )
    .option('--max-wait <ms>', 'how long the SPU holds a fetch while nothing arrives', integerArgument(0))
    .option(
      '-g, --group <group>',
      'read as a member of this consumer group (committed offsets, shared partitions)',
    )
    .option('--max-records <n>', 'stop after <n> records in all', integerArgument(1));
}

export function consumeCommand(context: CliContext): Command {
  const command = consumeCommandOptions();
  return withConnectionOptions(command).action(async (topic: string, flags: ConsumeFlags) => {
    const groupOptions = flags.group === undefined ? undefined : groupConsumerOptions(flags, flags.group);
    const options = groupOptions === undefined ? consumerOptions(flags) : undefined;
    const render = renderer({ ...flags, separator: unescapeSeparator(flags.separator) });
    const stop = new AbortController();
    const interrupt = (): void => stop.abort();
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    context.stdout.on('error', interrupt); // e.g. EPIPE when piped into `head`
    try {
      await withTide(context, flags, async (tide) => {
        const consumer =
          groupOptions === undefined
            ? tide.consumer(topic, { ...options, onWait: sayWaiting(context), signal: stop.signal })
            : tide.consumer(topic, { ...groupOptions, signal: stop.signal });
        if (flags.output === 'table' && flags.format === undefined) context.stdout.write(tableHeading());
        if (flags.maxRecords === undefined) {
          for await (const batch of consumer.batches()) await write(context, batch.records.map(render));
          return;
        }
        await printSome(context, consumer, flags.maxRecords, render);
      });
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    }
  });
}

/**
 * Prints `count` records, one at a time, so that a group consumer counts exactly those as consumed
 * (a whole fetch answer could hold more than are printed).
 */
async function printSome(
  context: CliContext,
  consumer: AsyncIterable<ConsumerRecord>,
  count: number,
  render: Render,
): Promise<void> {
  let printed = 0;
  for await (const record of consumer) {
    await write(context, [render(record)]);
    printed++;
    if (printed >= count) return;
  }
}

/** Options of a group consumer; a UsageError for position flags, which the group's offsets replace. */
export function groupConsumerOptions(flags: ConsumeFlags, group: string): GroupConsumerOptions {
  const positional = [
    ['-p', flags.partition.length > 0],
    ['-T', flags.tail !== undefined],
    ['-H', flags.head !== undefined],
    ['--start', flags.start !== undefined],
    ['--end', flags.end !== undefined],
    ['-d', flags.disableContinuous],
  ] as const;
  const clash = positional.filter(([, given]) => given).map(([flag]) => flag);
  if (clash.length > 0) {
    throw new UsageError(
      `${clash.join(', ')} cannot be combined with --group: the group assigns partitions and its committed offsets say where to start (use --max-records to stop)`,
    );
  }
  if (group.trim() === '') throw new UsageError('--group needs a group id');
  return {
    group,
    fromBeginning: flags.beginning,
    isolation: flags.isolation,
    clientId: 'tide-cli',
    ...(flags.maxWait === undefined ? {} : { maxWaitMs: flags.maxWait }),
  };
}

/** Turns the position flags into consumer options; a UsageError for contradicting flags. */
export function consumerOptions(flags: ConsumeFlags): ConsumerOptions {
  const starts = [
    flags.beginning,
    flags.tail !== undefined,
    flags.head !== undefined,
    flags.start !== undefined,
  ];
  if (starts.filter(Boolean).length > 1) {
    throw new UsageError('choose one of -B, -T, -H and --start');
  }
  if (flags.head !== undefined && flags.end !== undefined) {
    throw new UsageError('-H already says where to stop; it cannot be combined with --end');
  }
  const start = flags.start === undefined ? undefined : parseFlag('--start', flags.start, parseOffset);
  const end = flags.end === undefined ? undefined : parseFlag('--end', flags.end, parseOffset);
  if (start !== undefined && end !== undefined && end < start) {
    throw new UsageError('--end must not be before --start');
  }
  let offset = Offset.end();
  if (flags.beginning) offset = Offset.beginning();
  else if (flags.tail !== undefined) offset = Offset.fromEnd(flags.tail);
  else if (flags.head !== undefined) offset = Offset.beginning();
  else if (start !== undefined) offset = Offset.absolute(start);
  let until: Offset | undefined;
  if (flags.head !== undefined) until = Offset.fromBeginning(flags.head);
  else if (end !== undefined) until = Offset.absolute(end + 1n);
  else if (flags.disableContinuous) until = Offset.end();
  const partitions = flags.partition.map((text) => parseFlag('-p', text, parsePartition));
  return {
    offset,
    isolation: flags.isolation,
    // A reader that stops at the end gives up on a missing leader rather than wait forever.
    ...(until === undefined ? {} : { until, leaderWaitMs: cliDefaults.leaderWaitMs }),
    ...(partitions.length === 0 ? {} : { partitions }),
    ...(flags.maxWait === undefined ? {} : { maxWaitMs: flags.maxWait }),
  };
}

function parseOffset(text: string): bigint {
  if (!/^\d+$/.test(text.trim())) throw new Error(`expected an offset (a whole number ≥ 0), got "${text}"`);
  return BigInt(text.trim());
}

function parsePartition(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new Error(`expected a partition number, got "${text}"`);
  }
  return value;
}

/** Writes a batch's output in one call, waiting while stdout's buffer is full. */
async function write(context: CliContext, parts: readonly (string | Buffer)[]): Promise<void> {
  if (parts.length === 0) return;
  const chunk = parts.every((part) => typeof part === 'string')
    ? parts.join('')
    : Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));
  if (!context.stdout.write(chunk)) await once(context.stdout, 'drain');
}
