/**
 * Emits the encode and decode functions of one struct: straight-line code, one block per field,
 * version checks only where a field's presence or wire form changes within the supported range.
 */
import {
  chainBySegment,
  coversAll,
  decodeFunction,
  defaultExpression,
  type EmitContext,
  encodeFunction,
  fieldTsType,
  fixedBytes,
  isDefaultFunction,
  isNullableType,
  localName,
  minimumBytes,
  quote,
  type Segment,
  segmentsOf,
  tsType,
  versionCondition,
} from './emit-common.ts';
import type { FieldModel, FieldType, StructModel } from './model.ts';

function where(struct: StructModel, field: FieldModel): string {
  return `${struct.typeName}.${field.name}`;
}

type LengthPrefixed = 'string' | 'bytes' | 'records';

/** The primitive name of a string, bytes or records type (length-prefixed on the wire), else undefined. */
function lengthPrefixed(type: FieldType): LengthPrefixed | undefined {
  if (type.kind !== 'primitive') return undefined;
  return type.name === 'string' || type.name === 'bytes' || type.name === 'records' ? type.name : undefined;
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Reader/Writer method for a string, bytes or records value in one wire form. */
function lengthPrefixedMethod(name: LengthPrefixed, flexible: boolean, nullable: boolean): string {
  const kind = name === 'string' ? 'String' : 'Bytes';
  if (flexible) return nullable ? `compactNullable${kind}` : `compact${kind}`;
  return nullable ? `nullable${kind}` : kind.toLowerCase();
}

// Encoding --------------------------------------------------------------------------------------------

/** Expression for `expr`, asserting it is not null when the version does not allow null. */
function nonNullExpression(
  field: FieldModel,
  segment: Segment,
  expr: string,
  context: EmitContext,
  at: string,
): string {
  if (segment.nullable || !isNullableType(field)) return expr;
  context.helpers.add('nonNull');
  return `nonNull(${expr}, ${quote(at)}, version)`;
}

function writeElement(type: FieldType, flexible: boolean, expr: string, writer: string): string {
  if (type.kind === 'struct') return `${encodeFunction(type.struct)}(${writer}, ${expr}, version);`;
  const prefixed = lengthPrefixed(type);
  if (prefixed !== undefined) return `${writer}.${lengthPrefixedMethod(prefixed, flexible, false)}(${expr});`;
  if (type.kind === 'primitive') return `${writer}.${type.name}(${expr});`;
  throw new Error('arrays of arrays are not supported');
}

function writeValue(
  struct: StructModel,
  field: FieldModel,
  segment: Segment,
  expr: string,
  writer: string,
  context: EmitContext,
): string[] {
  const type = field.type;
  const at = where(struct, field);
  if (type.kind === 'struct') {
    if (isNullableType(field)) throw new Error(`${at}: nullable structs are not supported`);
    return [`${encodeFunction(type.struct)}(${writer}, ${expr}, version);`];
  }
  const prefixed = lengthPrefixed(type);
  if (prefixed !== undefined) {
    const method = lengthPrefixedMethod(prefixed, segment.flexible, segment.nullable);
    return [`${writer}.${method}(${nonNullExpression(field, segment, expr, context, at)});`];
  }
  if (type.kind === 'primitive') return [`${writer}.${type.name}(${expr});`];
  const lengthMethod = segment.flexible ? 'compactArrayLength' : 'arrayLength';
  const element = writeElement(type.element, segment.flexible, 'item', writer);
  if (segment.nullable) {
    return [
      `if (${expr} === null) {`,
      `${writer}.${lengthMethod}(-1);`,
      '} else {',
      `${writer}.${lengthMethod}(${expr}.length);`,
      `for (const item of ${expr}) ${element}`,
      '}',
    ];
  }
  const items = nonNullExpression(field, segment, expr, context, at);
  if (items === expr)
    return [`${writer}.${lengthMethod}(${expr}.length);`, `for (const item of ${expr}) ${element}`];
  return [
    '{',
    `const items = ${items};`,
    `${writer}.${lengthMethod}(items.length);`,
    `for (const item of items) ${element}`,
    '}',
  ];
}

/** True-when-default test used to skip tagged fields and to compare tagged structs. */
export function isDefaultTest(field: FieldModel, expr: string, context: EmitContext): string {
  const value = field.defaultValue;
  switch (value.kind) {
    case 'number':
    case 'boolean':
    case 'string':
    case 'bigint':
    case 'null':
      return `${expr} === ${defaultExpression(value, context)}`;
    case 'emptyArray':
    case 'emptyBytes':
      return isNullableType(field) ? `(${expr} !== null && ${expr}.length === 0)` : `${expr}.length === 0`;
    case 'zeroUuid':
      context.helpers.add('isZeroUuid');
      return `isZeroUuid(${expr})`;
    case 'struct':
      return `${isDefaultFunction(value.struct)}(${expr})`;
  }
}

/** True-when-not-default test deciding whether a tagged field is written. */
function differsFromDefaultTest(field: FieldModel, expr: string, context: EmitContext): string {
  const value = field.defaultValue;
  switch (value.kind) {
    case 'number':
    case 'boolean':
    case 'string':
    case 'bigint':
    case 'null':
      return `${expr} !== ${defaultExpression(value, context)}`;
    case 'emptyArray':
    case 'emptyBytes':
      return isNullableType(field) ? `(${expr} === null || ${expr}.length !== 0)` : `${expr}.length !== 0`;
    default:
      return `!${isDefaultTest(field, expr, context)}`;
  }
}

function emitTaggedWrites(
  struct: StructModel,
  tagged: readonly FieldModel[],
  context: EmitContext,
): string[] {
  // The tag section is only written in flexible versions, so presence is relative to those.
  const flexible = context.message.flexibleVersions ?? context.message.versions;
  const lines: string[] = [];
  for (const field of tagged) {
    const presence = versionCondition(field.versions, flexible);
    const test = differsFromDefaultTest(field, `value.${field.name}`, context);
    lines.push(
      `const write${capitalize(field.name)} = ${presence === null ? '' : `${presence} && `}${test};`,
    );
  }
  lines.push('let tagCount = 0;');
  for (const field of tagged) lines.push(`if (write${capitalize(field.name)}) tagCount++;`);
  lines.push('w.uvarint(tagCount);');
  for (const field of tagged) {
    lines.push(`if (write${capitalize(field.name)}) {`, `w.uvarint(${field.tag});`);
    const size = fixedBytes(field.type);
    const segments = segmentsOf(field);
    if (size !== undefined) {
      lines.push(
        `w.uvarint(${size});`,
        ...writeValue(struct, field, segments[0]!, `value.${field.name}`, 'w', context),
      );
    } else {
      context.imports.add('Writer');
      const blocks = segments.map((segment) =>
        writeValue(struct, field, segment, `value.${field.name}`, 'tagWriter', context),
      );
      lines.push('const tagWriter = new Writer(64);', ...chainBySegment(segments, blocks, null));
      lines.push('w.uvarint(tagWriter.length);', 'w.append(tagWriter);');
    }
    lines.push('}');
  }
  return lines;
}

function emitTagSectionWrite(struct: StructModel, context: EmitContext): string[] {
  const flexible = context.message.flexibleVersions;
  if (flexible === null) return [];
  const tagged = struct.fields
    .filter((field) => field.tag !== undefined)
    .sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));
  const lines = tagged.length === 0 ? ['w.uvarint(0);'] : emitTaggedWrites(struct, tagged, context);
  const condition = versionCondition(flexible, context.message.versions);
  return condition === null ? lines : [`if (${condition}) {`, ...lines, '}'];
}

function versionCheck(struct: StructModel, context: EmitContext): string[] {
  const { lo, hi } = context.message.versions;
  context.imports.add('ProtocolError');
  return [
    `if (version < ${lo} || version > ${hi}) {`,
    `throw new ProtocolError(\`${struct.typeName} version \${version} is not supported\`);`,
    '}',
  ];
}

/** Replaces the `version` parameter name when the body never reads it (Biome flags unused ones). */
function parameterName(body: readonly string[]): string {
  return body.some((line) => /\bversion\b/.test(line)) ? 'version' : '_version';
}

export function emitEncoder(struct: StructModel, root: boolean, context: EmitContext): string[] {
  const supported = context.message.versions;
  const body: string[] = root ? versionCheck(struct, context) : [];
  for (const field of struct.fields) {
    if (field.tag !== undefined) continue;
    const segments = segmentsOf(field);
    const blocks = segments.map((segment) =>
      writeValue(struct, field, segment, `value.${field.name}`, 'w', context),
    );
    body.push(...chainBySegment(segments, blocks, versionCondition(field.versions, supported)));
  }
  body.push(...emitTagSectionWrite(struct, context));
  const exported = root ? 'export ' : '';
  return [
    `${exported}function ${encodeFunction(struct)}(w: Writer, value: ${struct.typeName}, ${parameterName(body)}: number): void {`,
    ...body,
    '}',
  ];
}

// Decoding --------------------------------------------------------------------------------------------

function readElement(type: FieldType, flexible: boolean, reader: string): string {
  if (type.kind === 'struct') return `${decodeFunction(type.struct)}(${reader}, version)`;
  const prefixed = lengthPrefixed(type);
  if (prefixed !== undefined) return `${reader}.${lengthPrefixedMethod(prefixed, flexible, false)}()`;
  if (type.kind === 'primitive') return `${reader}.${type.name}()`;
  throw new Error('arrays of arrays are not supported');
}

/** Expression reading a non-array value. */
function readExpression(field: FieldModel, segment: Segment, reader: string): string {
  const prefixed = lengthPrefixed(field.type);
  if (prefixed !== undefined) {
    return `${reader}.${lengthPrefixedMethod(prefixed, segment.flexible, segment.nullable)}()`;
  }
  return readElement(field.type, segment.flexible, reader);
}

function arrayCount(
  struct: StructModel,
  field: FieldModel,
  segment: Segment,
  reader: string,
  context: EmitContext,
): string {
  if (field.type.kind !== 'array') throw new Error('not an array');
  let minimum = Number.POSITIVE_INFINITY;
  for (let version = segment.range.lo; version <= segment.range.hi; version++) {
    const bytes = minimumBytes(
      field.type.element,
      version,
      segment.flexible,
      context.message.flexibleVersions,
    );
    minimum = Math.min(minimum, bytes);
  }
  if (minimum < 1)
    throw new Error(`${where(struct, field)}: elements may be empty, so a count cannot be bounded`);
  return `${reader}.${segment.flexible ? 'compactArrayLength' : 'arrayLength'}(${minimum})`;
}

/**
 * Reads an array into `target`; `declare` makes `target` a new const (or let when nullable). The
 * segments must agree on nullability and element encoding; only the count's encoding may differ.
 */
function readArray(
  struct: StructModel,
  field: FieldModel,
  segments: readonly Segment[],
  reader: string,
  target: string,
  declare: boolean,
  context: EmitContext,
): string[] {
  if (field.type.kind !== 'array') throw new Error('not an array');
  const first = segments[0]!;
  const elementType = tsType(field.type.element);
  const element = readElement(field.type.element, first.flexible, reader);
  const count = declare ? `${target}Count` : 'count';
  let countExpression = arrayCount(struct, field, first, reader, context);
  for (const segment of segments.slice(1)) {
    const next = arrayCount(struct, field, segment, reader, context);
    countExpression = `version >= ${segment.range.lo} ? ${next} : ${countExpression}`;
  }
  const lines = [`const ${count} = ${countExpression};`];
  const fill = [
    `const items: ${elementType}[] = [];`,
    `for (let i = 0; i < ${count}; i++) items.push(${element});`,
  ];
  if (first.nullable && declare) {
    lines.push(`let ${target}: ${elementType}[] | null = null;`);
    lines.push(`if (${count} >= 0) {`, ...fill, `${target} = items;`, '}');
  } else if (first.nullable) {
    lines.push(`if (${count} < 0) {`, `${target} = null;`, '} else {', ...fill, `${target} = items;`, '}');
  } else {
    context.imports.add('ProtocolError');
    lines.push(
      `if (${count} < 0) throw new ProtocolError(${quote(`${where(struct, field)} is null but not nullable`)});`,
    );
    if (declare) {
      lines.push(`const ${target}: ${elementType}[] = [];`);
      lines.push(`for (let i = 0; i < ${count}; i++) ${target}.push(${element});`);
    } else {
      lines.push(...fill, `${target} = items;`);
    }
  }
  return lines;
}

/** Whether the segments differ only in how the array count is encoded. */
function onlyCountDiffers(field: FieldModel, segments: readonly Segment[]): boolean {
  if (field.type.kind !== 'array') return false;
  const element = field.type.element;
  const elements = new Set(segments.map((segment) => readElement(element, segment.flexible, 'r')));
  const nullable = new Set(segments.map((segment) => segment.nullable));
  return elements.size === 1 && nullable.size === 1;
}

function readInto(
  struct: StructModel,
  field: FieldModel,
  segment: Segment,
  reader: string,
  context: EmitContext,
): string[] {
  const target = localName(field);
  if (field.type.kind === 'array') return readArray(struct, field, [segment], reader, target, false, context);
  return [`${target} = ${readExpression(field, segment, reader)};`];
}

function emitFieldRead(struct: StructModel, field: FieldModel, context: EmitContext): string[] {
  const supported = context.message.versions;
  const segments = segmentsOf(field);
  const target = localName(field);
  const always = coversAll(field.versions, supported);
  if (always && field.type.kind !== 'array') {
    let expression = readExpression(field, segments[0]!, 'r');
    for (const segment of segments.slice(1)) {
      expression = `version >= ${segment.range.lo} ? ${readExpression(field, segment, 'r')} : ${expression}`;
    }
    return [`const ${target} = ${expression};`];
  }
  if (always && onlyCountDiffers(field, segments)) {
    return readArray(struct, field, segments, 'r', target, true, context);
  }
  const blocks = segments.map((segment) => readInto(struct, field, segment, 'r', context));
  return [
    `let ${target}: ${fieldTsType(field)} = ${defaultExpression(field.defaultValue, context)};`,
    ...chainBySegment(segments, blocks, versionCondition(field.versions, supported)),
  ];
}

function emitTaggedReads(struct: StructModel, tagged: readonly FieldModel[], context: EmitContext): string[] {
  const flexible = context.message.flexibleVersions ?? context.message.versions;
  context.imports.add('Reader');
  context.imports.add('ProtocolError');
  const lines = [
    'const tagCount = r.uvarint();',
    'let previousTag = -1;',
    'for (let tagIndex = 0; tagIndex < tagCount; tagIndex++) {',
    'const tag = r.uvarint();',
    `if (tag <= previousTag) throw new ProtocolError(\`${struct.typeName}: tagged field \${tag} out of order\`);`,
    'previousTag = tag;',
    'const tagSize = r.uvarint();',
    'const tagStart = r.take(tagSize);',
  ];
  tagged.forEach((field, index) => {
    const presence = versionCondition(field.versions, flexible);
    const test = `tag === ${field.tag}${presence === null ? '' : ` && ${presence}`}`;
    const segments = segmentsOf(field);
    const blocks = segments.map((segment) => readInto(struct, field, segment, 'tagReader', context));
    lines.push(`${index === 0 ? '' : '} else '}if (${test}) {`);
    lines.push('const tagReader = new Reader(r.buffer, tagStart, tagStart + tagSize);');
    lines.push(...chainBySegment(segments, blocks, null));
  });
  lines.push('}', '}');
  return lines;
}

function emitTagSectionRead(struct: StructModel, context: EmitContext): string[] {
  const flexible = context.message.flexibleVersions;
  if (flexible === null) return [];
  const tagged = struct.fields
    .filter((field) => field.tag !== undefined)
    .sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));
  const lines = tagged.length === 0 ? ['r.taggedFields();'] : emitTaggedReads(struct, tagged, context);
  const condition = versionCondition(flexible, context.message.versions);
  return condition === null ? lines : [`if (${condition}) {`, ...lines, '}'];
}

export function emitDecoder(struct: StructModel, root: boolean, context: EmitContext): string[] {
  const body: string[] = root ? versionCheck(struct, context) : [];
  for (const field of struct.fields) {
    if (field.tag === undefined) body.push(...emitFieldRead(struct, field, context));
  }
  for (const field of struct.fields) {
    if (field.tag === undefined) continue;
    body.push(
      `let ${localName(field)}: ${fieldTsType(field)} = ${defaultExpression(field.defaultValue, context)};`,
    );
  }
  body.push(...emitTagSectionRead(struct, context));
  const properties = struct.fields.map((field) =>
    localName(field) === field.name ? field.name : `${field.name}: ${localName(field)}`,
  );
  body.push(`return { ${properties.join(', ')} };`);
  const exported = root ? 'export ' : '';
  return [
    `${exported}function ${decodeFunction(struct)}(r: Reader, ${parameterName(body)}: number): ${struct.typeName} {`,
    ...body,
    '}',
  ];
}
