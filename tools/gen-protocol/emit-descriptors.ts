/**
 * Emits a compact description of every generated message (fields, types, version ranges, defaults).
 * Only tests read it: they build random values per version from it and check the codecs round-trip.
 */
import { quote } from './emit-common.ts';
import { generatedLine, noticeLine } from './emit-module.ts';
import type {
  DefaultValue,
  FieldModel,
  FieldType,
  MessageModel,
  StructModel,
  VersionRange,
} from './model.ts';

function typeName(type: FieldType): string {
  if (type.kind === 'array') return `[]${typeName(type.element)}`;
  return type.kind === 'struct' ? 'struct' : type.name;
}

function defaultLiteral(value: DefaultValue): string | undefined {
  switch (value.kind) {
    case 'number':
    case 'boolean':
      return String(value.value);
    case 'bigint':
      return `${value.value}n`;
    case 'string':
      return quote(value.value);
    case 'null':
      return 'null';
    case 'emptyArray':
      return '[]';
    case 'emptyBytes':
      return 'Buffer.alloc(0)';
    case 'zeroUuid':
      return 'Buffer.alloc(16)';
    case 'struct':
      return undefined;
  }
}

function range(value: VersionRange | null): string {
  return value === null ? 'null' : `[${value.lo}, ${value.hi}]`;
}

function structOf(type: FieldType): StructModel | undefined {
  if (type.kind === 'struct') return type.struct;
  return type.kind === 'array' ? structOf(type.element) : undefined;
}

function emitField(field: FieldModel, depth: number): string {
  if (depth > 16) throw new Error(`${field.name}: structs nested too deeply`);
  const parts = [
    quote(field.name),
    quote(typeName(field.type)),
    range(field.versions),
    range(field.nullableVersions),
    String(field.tag ?? 'null'),
    defaultLiteral(field.defaultValue) ?? 'null',
  ];
  const struct = structOf(field.type);
  if (struct !== undefined)
    parts.push(`[${struct.fields.map((child) => emitField(child, depth + 1)).join(', ')}]`);
  return `[${parts.join(', ')}]`;
}

function emitMessage(message: MessageModel): string {
  const fields = message.root.fields.map((field) => emitField(field, 0));
  return `{
  name: ${quote(message.name)},
  apiKey: ${message.apiKey ?? 'null'},
  minVersion: ${message.versions.lo},
  maxVersion: ${message.versions.hi},
  fields: [${fields.join(', ')}],
},`;
}

export function emitDescriptors(messages: readonly MessageModel[]): string {
  return `${generatedLine}
${noticeLine}

/** Field descriptions of the generated messages, for tests that build values per version. */

/**
 * One field: its property name, type (a primitive name or \`struct\`, prefixed with \`[]\` for arrays),
 * the inclusive range of supported versions in which it is on the wire, the range in which it may be
 * null, its tag, its value when absent (null for structs: each field at its default), and the fields
 * of a struct (or of each array element).
 */
export type FieldDescriptor = readonly [
  name: string,
  type: string,
  versions: readonly [number, number],
  nullableVersions: readonly [number, number] | null,
  tag: number | null,
  defaultValue: unknown,
  fields?: readonly FieldDescriptor[],
];

export interface MessageDescriptor {
  readonly name: string;
  readonly apiKey: number | null;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly fields: readonly FieldDescriptor[];
}

export const messageDescriptors: readonly MessageDescriptor[] = [
${messages.map(emitMessage).join('\n')}
];
`;
}
