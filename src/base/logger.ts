/**
 * Structured logs: one JSON line per event (`{"time":…,"level":"info","component":"spu","msg":…}`
 * plus fields), written synchronously to a sink so that a crash loses nothing already logged. Events
 * are about connections, partitions and failures, never one line per record.
 */
export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface LogSink {
  write(line: string): unknown;
}

export class Logger {
  readonly #sink: LogSink;
  readonly #threshold: number;
  readonly #base: LogFields;

  constructor(options: { level?: LogLevel; sink?: LogSink; fields?: LogFields } = {}) {
    this.#sink = options.sink ?? process.stderr;
    this.#threshold = rank[options.level ?? 'info'];
    this.#base = options.fields ?? {};
  }

  /** A logger that adds `fields` to every line (e.g. `{ component: 'listener' }`). */
  child(fields: LogFields): Logger {
    return new Logger({ sink: this.#sink, level: this.level, fields: { ...this.#base, ...fields } });
  }

  get level(): LogLevel {
    return logLevels.find((level) => rank[level] === this.#threshold) ?? 'info';
  }

  get fields(): LogFields {
    return this.#base;
  }

  enabled(level: LogLevel): boolean {
    return rank[level] >= this.#threshold;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#log('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.#log('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.#log('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.#log('error', msg, fields);
  }

  #log(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (rank[level] < this.#threshold) return;
    const event = { time: new Date().toISOString(), level, ...this.#base, msg, ...fields };
    this.#sink.write(`${JSON.stringify(event, replaceSpecial)}\n`);
  }
}

/** bigint offsets print as numbers-in-strings; errors print their message and code. */
function replaceSpecial(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? value.message : { message: value.message, code };
  }
  return value;
}

export const silentLogger = new Logger({ level: 'silent' });
