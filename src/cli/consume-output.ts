import type { ConsumerRecord } from '../client/consumer.ts';
import { toYaml } from './yaml.ts';

/**
 * How `tide consume` prints a record: its value as text, a `-F` template, a JSON line, a YAML
 * document, the raw value bytes, or a table row. Keys, values and header values are written as
 * UTF-8 text, or as base64 or hex for binary data (`--encoding`), which UTF-8 would garble into
 * U+FFFD. Headers stay a list, as repeated keys are allowed.
 */

export const byteEncodings = ['utf8', 'base64', 'hex'] as const;
export type ByteEncoding = (typeof byteEncodings)[number];

export const consumeFormats = ['text', 'json', 'yaml', 'raw', 'table'] as const;
export type ConsumeFormat = (typeof consumeFormats)[number];

export interface RenderOptions {
  readonly output: ConsumeFormat;
  readonly format?: string | undefined;
  readonly keyValue: boolean;
  readonly encoding: ByteEncoding;
  /** Written after each value in `-O raw` (default a newline). */
  readonly separator: string;
}

export type Render = (record: ConsumerRecord) => string | Buffer;

export function renderer(options: RenderOptions): Render {
  const text = (bytes: Buffer | null): string | null =>
    bytes === null ? null : bytes.toString(options.encoding);
  if (options.format !== undefined) {
    const template = options.format;
    return (record) => `${fillTemplate(template, record, text)}\n`;
  }
  switch (options.output) {
    case 'json':
      return (record) => `${JSON.stringify(recordToPlain(record, text))}\n`;
    case 'yaml':
      return (record) => `---\n${toYaml(recordToPlain(record, text))}`;
    case 'raw': {
      const separator = Buffer.from(options.separator, 'utf8');
      return (record) => Buffer.concat([record.value ?? Buffer.alloc(0), separator]);
    }
    case 'table':
      return (record) => tableRow(record, text);
    default:
      return options.keyValue
        ? (record) => `[${text(record.key) ?? 'null'}] ${text(record.value) ?? 'null'}\n`
        : (record) => `${text(record.value) ?? 'null'}\n`;
  }
}

/** `\n`, `\t`, `\0` and `\\` in a `--separator` argument, as a shell user types them. */
export function unescapeSeparator(text: string): string {
  const escapes: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\' };
  return text.replace(/\\([ntr0\\])/g, (_, letter: string) => escapes[letter] ?? letter);
}

type Text = (bytes: Buffer | null) => string | null;

/** Fills `{{offset}}`, `{{key}}`, `{{value}}`, `{{partition}}`, `{{timestamp}}`, `{{time}}`, `{{headers}}`, `{{topic}}`. */
function fillTemplate(template: string, record: ConsumerRecord, text: Text): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => {
    switch (name) {
      case 'offset':
        return String(record.offset);
      case 'partition':
        return String(record.partition);
      case 'key':
        return text(record.key) ?? 'null';
      case 'value':
        return text(record.value) ?? 'null';
      case 'timestamp':
        return String(record.timestamp);
      case 'time':
        return new Date(record.timestamp).toISOString();
      case 'topic':
        return record.topic;
      case 'headers':
        return record.headers.map((h) => `${h.key}=${text(h.value) ?? 'null'}`).join(',');
      default:
        return whole;
    }
  });
}

function recordToPlain(record: ConsumerRecord, text: Text): Record<string, unknown> {
  const offset = record.offset;
  return {
    topic: record.topic,
    partition: record.partition,
    offset: offset <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(offset) : offset.toString(),
    timestamp: record.timestamp,
    key: text(record.key),
    value: text(record.value),
    headers: record.headers.map((h) => ({ key: h.key, value: text(h.value) })),
  };
}

const columns = [9, 12, 24, 20] as const; // partition, offset, time, key widths

export function tableHeading(): string {
  return `${'PARTITION'.padEnd(columns[0] + 2)}${'OFFSET'.padEnd(columns[1] + 2)}${'TIME'.padEnd(columns[2] + 2)}${'KEY'.padEnd(columns[3] + 2)}VALUE\n`;
}

function tableRow(record: ConsumerRecord, text: Text): string {
  const cells = [
    String(record.partition),
    String(record.offset),
    new Date(record.timestamp).toISOString(),
    text(record.key) ?? '-',
  ];
  const padded = cells.map((cell, i) => cell.padEnd(columns[i]! + 2)).join('');
  return `${padded}${(text(record.value) ?? '-').replace(/\n/g, '\\n')}\n`;
}
