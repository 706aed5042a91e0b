/**
 * Plumbing shared by the `tide` commands: where profiles live, connecting from `--profile` /
 * `--bootstrap`, printing tables for people and JSON/YAML for scripts, and mapping failures to exit
 * codes (0 success, 1 failure, 2 usage error).
 */
import CliTable from 'cli-table3';
import { type Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { TideError } from '../base/errors.ts';
import { parseDuration } from '../base/units.ts';
import { clientErrorCodes, TideClientError } from '../client/errors.ts';
import { Tide } from '../client/tide.ts';
import { toYaml } from './yaml.ts';

/** What main.ts hands every command: paths and streams, so commands never read the environment. */
export interface CliContext {
  /** The profiles file (TIDE_CONFIG, else ~/.tide/config.toml). */
  readonly profilesPath: string;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Characters a table line may take (the terminal's width); undefined: no limit (a pipe, --wide). */
  readonly tableWidthMax?: number | undefined;
}

export const exitCodes = Object.freeze({ success: 0, failure: 1, usage: 2 });

export const cliDefaults = Object.freeze({
  reconnectTimeoutMs: 5_000, // ms the CLI keeps trying to reach a cluster before giving up
  // ms a command that stops at the end (`consume -d`) waits for a partition's leader before failing:
  // long enough for the controller to elect a new one after an SPU died (a few seconds)
  leaderWaitMs: 15_000,
});

/** Writes `waiting: <reason>` on stderr, so that a command that waits never looks hung. */
export function sayWaiting(context: CliContext): (reason: string) => void {
  return (reason) => {
    context.stderr.write(`waiting: ${reason}\n`);
  };
}

/** A failure the command already described on stdout (`-O json`): only stderr and the exit code follow. */
export class ReportedFailure extends Error {
  override name = 'ReportedFailure';
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ConnectionFlags {
  readonly profile?: string;
  readonly bootstrap?: string;
}

export type OutputFormat = 'table' | 'json' | 'yaml';

/** Adds `--profile` and `--bootstrap` to `command`. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--profile <name>', 'profile to use (default: the current profile)')
    .option('--bootstrap <addresses>', 'SPU addresses host:port[,host:port…] (overrides the profile)');
}

/**
 * Adds `-O, --output <format>` (table, json or yaml) and `--wide` (main.ts reads it: tables then
 * keep their full width instead of fitting the terminal).
 */
export function withOutputOption(command: Command): Command {
  return command
    .addOption(
      new Option('-O, --output <format>', 'output format')
        .choices(['table', 'json', 'yaml'])
        .default('table'),
    )
    .option('--wide', 'print tables at full width instead of fitting the terminal');
}

/** The narrowest a column is made to fit the terminal, in characters (room for `ab…`). */
const columnWidthMin = 3;

/**
 * Cells cut to fit `widthMax` characters per line (two spaces between columns): the widest columns
 * give way first, and a cut cell ends with `…`.
 */
export function fitColumns(rows: readonly (readonly string[])[], widthMax: number): string[][] {
  const count = rows[0]?.length ?? 0;
  const widths = Array.from({ length: count }, (_, column) =>
    Math.max(...rows.map((row) => [...(row[column] ?? '')].length)),
  );
  const total = (): number => widths.reduce((sum, width) => sum + width, 0) + 2 * (count - 1);
  while (total() > widthMax) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] ?? 0) <= columnWidthMin) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  return rows.map((row) =>
    row.map((cell, column) => {
      const characters = [...cell];
      const width = widths[column] ?? characters.length;
      return characters.length <= width ? cell : `${characters.slice(0, width - 1).join('')}…`;
    }),
  );
}

/** Connects as the flags say (bootstrap addresses, else the named or current profile). */
export function connect(context: CliContext, flags: ConnectionFlags): Promise<Tide> {
  return Tide.connect({
    profilesPath: context.profilesPath,
    ...(flags.bootstrap === undefined ? {} : { bootstrap: flags.bootstrap }),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
    reconnectTimeoutMs: cliDefaults.reconnectTimeoutMs,
  });
}

/** Connects, runs `work`, and closes the connection whatever happens. */
export async function withTide<T>(
  context: CliContext,
  flags: ConnectionFlags,
  work: (tide: Tide) => Promise<T>,
): Promise<T> {
  const tide = await connect(context, flags);
  try {
    return await work(tide);
  } finally {
    await tide.close();
  }
}

/** A column-aligned table without borders (bold headings on a terminal), like Fluvio prints. */
export function printTable(
  context: CliContext,
  head: readonly string[],
  rows: readonly (readonly (string | number | bigint | null)[])[],
): void {
  const tty = context.stdout.isTTY === true;
  const texts = [head, ...rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))))];
  const [heading = [], ...body] =
    context.tableWidthMax === undefined
      ? texts.map((row) => [...row])
      : fitColumns(texts, context.tableWidthMax);
  const table = new CliTable({
    head: heading.map((title) => (tty ? pc.bold(title) : title)),
    chars: Object.fromEntries(
      ['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right']
        .concat(['left', 'left-mid', 'mid', 'mid-mid', 'right', 'right-mid', 'middle'])
        .map((name) => [name, '']),
    ),
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2, compact: true },
  });
  for (const row of body) table.push(row);
  const text = table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
  context.stdout.write(`${text}\n`);
}

/** Prints `data` as JSON or YAML (bigints become numbers when exact, strings otherwise). */
export function printData(context: CliContext, format: 'json' | 'yaml', data: unknown): void {
  const plain = toPlain(data);
  context.stdout.write(format === 'json' ? `${JSON.stringify(plain, null, 2)}\n` : toYaml(plain));
}

/** Plain data for JSON/YAML: bigint → number (or string beyond 2^53), Buffer → base64, Error → message. */
export function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Error) return value.message;
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlain(item)]));
  }
  return value;
}

/** A commander argument parser for whole numbers ≥ `minimum`. */
export function integerArgument(minimum: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum) {
      throw new InvalidArgumentError(`expected a whole number ≥ ${minimum}, got "${text}"`);
    }
    return value;
  };
}

/**
 * Milliseconds in a duration that names its unit (`7d`, `12h`, `30s`, `250ms`). A bare number is
 * refused rather than read as milliseconds: `--retention-time 7` meant days to the person who typed
 * it, and as 7 ms it would delete every record at once.
 */
export function parseDurationWithUnit(text: string): number {
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) {
    const number = text.trim();
    throw new Error(
      `"${number}" has no unit: say ${number}d, ${number}h, ${number}min, ${number}s or ${number}ms`,
    );
  }
  return parseDuration(text);
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/** `['a=1', 'b=2']` → `{ a: '1', b: '2' }`; throws UsageError for an entry without `=`. */
export function parseConfigPairs(pairs: readonly string[]): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--config expects key=value, got "${pair}"`);
    configs[pair.slice(0, equals).trim()] = pair.slice(equals + 1).trim();
  }
  return configs;
}

/** Runs `check` on a flag's text, turning its Error into a UsageError naming the flag. */
export function parseFlag<T>(flag: string, text: string, check: (text: string) => T): T {
  try {
    return check(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Applies the CLI's parsing rules to a command tree: commander errors throw (so main.ts picks the exit
 * code) and a usage error shows the help hint.
 */
export function configureTree(command: Command): void {
  command.exitOverride().showHelpAfterError('(add --help for usage)').configureHelp({ optionDescription });
  for (const sub of command.commands) configureTree(sub);
}

/** Commander's option help without `(default: false)`: a flag that is not given is off anyway. */
function optionDescription(this: Help, option: Option): string {
  return Help.prototype.optionDescription.call(this, option).replace(/ \(default: false\)$/, '');
}

/**
 * The `-O` / `--output` format an argument list asks for, if any (main.ts reads it so that a failure
 * under `-O json` can be reported as JSON too).
 */
export function requestedOutput(args: readonly string[]): string | undefined {
  let found: string | undefined;
  args.forEach((arg, index) => {
    if (arg === '-O' || arg === '--output') found = args[index + 1];
    else if (arg.startsWith('--output=')) found = arg.slice('--output='.length);
    else if (arg.startsWith('-O') && arg.length > 2) found = arg.slice(2);
  });
  return found;
}

/**
 * Writes the error for a failed command and returns the exit code. Under `-O json` or `-O yaml` an
 * error object also goes to stdout, so a script reading stdout learns what failed.
 */
export function reportFailure(
  context: CliContext,
  error: unknown,
  options: { output?: string | undefined } = {},
): number {
  const code = exitCodeOf(error);
  if (code === exitCodes.success) return code;
  const described = error instanceof ReportedFailure;
  if (!described && (options.output === 'json' || options.output === 'yaml')) {
    printData(context, options.output, { error: errorObject(error, code) });
  }
  // Commander already printed its own messages (or the help / version text).
  if (error instanceof CommanderError) return code;
  const red = (text: string): string => (context.stderr.isTTY === true ? pc.red(text) : text);
  if (error instanceof UsageError) {
    context.stderr.write(`${red('error:')} ${error.message}\n(add --help for usage)\n`);
    return code;
  }
  context.stderr.write(`${red('error:')} ${describeError(error)}\n`);
  const hint = nextStep(error);
  if (hint !== undefined) context.stderr.write(`${hint}\n`);
  return code;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.success : exitCodes.usage;
  return error instanceof UsageError ? exitCodes.usage : exitCodes.failure;
}

/** `{ code, kafkaError?, message, exitCode }` for scripts. */
function errorObject(error: unknown, exitCode: number): Record<string, unknown> {
  const kafka = error instanceof TideClientError ? { kafkaError: error.errorName } : {};
  let code = 'ERROR';
  if (error instanceof TideError) code = error.code;
  else if (error instanceof CommanderError || error instanceof UsageError) code = 'USAGE';
  const message = error instanceof Error ? error.message.replace(/^error: /, '') : String(error);
  return { code, ...kafka, message, exitCode };
}

/** What to try next after a failure to reach the cluster. */
function nextStep(error: unknown): string | undefined {
  if (!(error instanceof TideError)) return undefined;
  if (error.code === clientErrorCodes.noBrokerAvailable) {
    return 'Is the cluster running? `tide cluster status` shows the local cluster and `tide cluster start` starts it; `tide profile list` shows where profiles point.';
  }
  if (error.code === clientErrorCodes.wrongListener) {
    return "Give an SPU's Kafka address: `tide cluster status` lists them (PORT column).";
  }
  return undefined;
}

function describeError(error: unknown): string {
  if (error instanceof TideClientError) return `${error.message} (${error.errorName})`;
  if (error instanceof TideError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
