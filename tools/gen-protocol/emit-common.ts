/**
 * Pieces shared by the emitters: TypeScript types and default values of fields, version conditions,
 * and the per-version segments of a field (where its encoding stays the same).
 */
import {
  contains,
  type DefaultValue,
  type FieldModel,
  type FieldType,
  type MessageModel,
  type StructModel,
  type VersionRange,
  versionMax,
} from './model.ts';

/** What an emitter needs to know about the message it is writing. */
export interface EmitContext {
  readonly message: MessageModel;
  /** Names imported from ./helpers.ts by the module being written. */
  readonly helpers: Set<string>;
  /** Other imports the module needs: 'ProtocolError', 'Reader' (value), 'Writer' (value). */
  readonly imports: Set<string>;
}

export function newContext(message: MessageModel): EmitContext {
  return { message, helpers: new Set(), imports: new Set() };
}

export function tsType(type: FieldType): string {
  switch (type.kind) {
    case 'struct':
      return type.struct.typeName;
    case 'array':
      return `${tsType(type.element)}[]`;
    case 'primitive':
      switch (type.name) {
        case 'bool':
          return 'boolean';
        case 'int64':
          return 'bigint';
        case 'string':
          return 'string';
        case 'uuid':
        case 'bytes':
          return 'Buffer';
        case 'records':
          return 'Buffer | null';
        default:
          return 'number';
      }
  }
}

/** The field's property type: nullable if it is nullable in any supported version; records always. */
export function fieldTsType(field: FieldModel): string {
  const base = tsType(field.type);
  if (field.nullableVersions === null || base.endsWith('| null')) return base;
  return `${base} | null`;
}

export function isNullableType(field: FieldModel): boolean {
  return (
    field.nullableVersions !== null || (field.type.kind === 'primitive' && field.type.name === 'records')
  );
}

export function createFunction(struct: StructModel): string {
  return `create${struct.typeName}`;
}

export function encodeFunction(struct: StructModel): string {
  return `encode${struct.typeName}`;
}

export function decodeFunction(struct: StructModel): string {
  return `decode${struct.typeName}`;
}

export function isDefaultFunction(struct: StructModel): string {
  return `isDefault${struct.typeName}`;
}

/** An expression producing a fresh default value (fresh so callers may mutate what they get). */
export function defaultExpression(value: DefaultValue, context: EmitContext): string {
  switch (value.kind) {
    case 'number':
      return Object.is(value.value, -0) ? '-0' : String(value.value);
    case 'bigint':
      return `${value.value}n`;
    case 'boolean':
      return String(value.value);
    case 'string':
      return quote(value.value);
    case 'null':
      return 'null';
    case 'emptyArray':
      return '[]';
    case 'emptyBytes':
      context.helpers.add('emptyBytes');
      return 'emptyBytes';
    case 'zeroUuid':
      context.helpers.add('zeroUuid');
      return 'zeroUuid';
    case 'struct':
      return `${createFunction(value.struct)}()`;
  }
}

export function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A condition selecting `range` among the supported versions, or null when it holds for all of them. */
export function versionCondition(range: VersionRange, supported: VersionRange): string | null {
  const low = range.lo > supported.lo;
  const high = range.hi < supported.hi;
  if (low && high)
    return range.lo === range.hi
      ? `version === ${range.lo}`
      : `version >= ${range.lo} && version <= ${range.hi}`;
  if (low) return `version >= ${range.lo}`;
  if (high) return `version <= ${range.hi}`;
  return null;
}

export function coversAll(range: VersionRange, supported: VersionRange): boolean {
  return range.lo <= supported.lo && range.hi >= supported.hi;
}

/** Human-readable range for comments: `v3+` when it reaches the newest supported version. */
export function describeRange(range: VersionRange, supported: VersionRange): string {
  if (range.hi >= supported.hi || range.hi === versionMax) return `v${range.lo}+`;
  return range.lo === range.hi ? `v${range.lo}` : `v${range.lo}-${range.hi}`;
}

/** A run of versions in which a field's wire form (compact or not, nullable or not) stays the same. */
export interface Segment {
  readonly range: VersionRange;
  readonly flexible: boolean;
  readonly nullable: boolean;
}

/** Whether compact encodings change how this field's own bytes look (structs handle their own). */
function flexibleMatters(type: FieldType): boolean {
  return (
    type.kind === 'array' || (type.kind === 'primitive' && ['string', 'bytes', 'records'].includes(type.name))
  );
}

export function segmentsOf(field: FieldModel): Segment[] {
  const segments: Segment[] = [];
  const matters = flexibleMatters(field.type);
  for (let version = field.versions.lo; version <= field.versions.hi; version++) {
    const flexible = matters && contains(field.flexibleVersions, version);
    const nullable = contains(field.nullableVersions, version);
    const last = segments.at(-1);
    if (last !== undefined && last.flexible === flexible && last.nullable === nullable) {
      segments[segments.length - 1] = { ...last, range: { lo: last.range.lo, hi: version } };
    } else {
      segments.push({ range: { lo: version, hi: version }, flexible, nullable });
    }
  }
  return segments;
}

/**
 * Joins per-segment statement blocks into one if/else chain, newest versions first, inside
 * `presence` (a version condition) unless it is null.
 */
export function chainBySegment(
  segments: readonly Segment[],
  blocks: readonly string[][],
  presence: string | null,
): string[] {
  const lines: string[] = [];
  if (segments.length === 1) {
    lines.push(...(blocks[0] ?? []));
  } else {
    for (let i = segments.length - 1; i >= 0; i--) {
      const segment = segments[i]!;
      if (i === segments.length - 1) lines.push(`if (version >= ${segment.range.lo}) {`);
      else if (i > 0) lines.push(`} else if (version >= ${segment.range.lo}) {`);
      else lines.push('} else {');
      lines.push(...(blocks[i] ?? []));
    }
    lines.push('}');
  }
  return presence === null ? lines : [`if (${presence}) {`, ...lines, '}'];
}

/** Byte size of fixed-width primitives, used for tagged-field sizes and array bounds. */
export function fixedBytes(type: FieldType): number | undefined {
  if (type.kind !== 'primitive') return undefined;
  switch (type.name) {
    case 'bool':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    default:
      return undefined;
  }
}

/** Fewest bytes a value of `type` occupies in `version`; bounds decoded array counts by the bytes left. */
export function minimumBytes(
  type: FieldType,
  version: number,
  flexible: boolean,
  messageFlexible: VersionRange | null,
): number {
  const fixed = fixedBytes(type);
  if (fixed !== undefined) return fixed;
  if (type.kind === 'array') return flexible ? 1 : 4;
  if (type.kind === 'primitive') {
    if (type.name === 'string') return flexible ? 1 : 2;
    return flexible ? 1 : 4;
  }
  // A flexible struct ends with at least the one-byte count of its tagged fields.
  let total = contains(messageFlexible, version) ? 1 : 0;
  for (const field of type.struct.fields) {
    if (field.tag !== undefined || !contains(field.versions, version)) continue;
    total += minimumBytes(field.type, version, contains(field.flexibleVersions, version), messageFlexible);
  }
  return total;
}

/** Local variable names that could clash with the codec's own. */
const reservedNames = new Set([
  'r',
  'w',
  'version',
  'value',
  'i',
  'item',
  'items',
  'count',
  'tag',
  'tagCount',
  'tagSize',
  'tagStart',
  'tagReader',
  'tagWriter',
  'previousTag',
  'default',
  'delete',
  'new',
  'class',
  'function',
  'return',
  'this',
  'var',
  'let',
  'const',
  'in',
  'of',
  'do',
  'if',
  'for',
  'while',
  'switch',
  'case',
  'break',
  'continue',
  'void',
  'typeof',
  'instanceof',
  'with',
  'yield',
  'await',
  'enum',
  'export',
  'import',
  'super',
  'throw',
  'try',
  'catch',
  'finally',
  'null',
  'true',
  'false',
  'extends',
]);

export function localName(field: FieldModel): string {
  return reservedNames.has(field.name) ? `${field.name}Field` : field.name;
}
