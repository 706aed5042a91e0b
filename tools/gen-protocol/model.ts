/**
 * The model the emitter works from: messages made of structs made of fields, each with its type and
 * the version ranges in which it exists, is nullable or is tagged, already cut down to the versions
 * Tide supports. Fields that exist in no supported version are dropped here, so the emitted types
 * only carry what can appear on the wire.
 */
import type { SchemaField, SchemaMessage } from './schema.ts';

/** Inclusive version range; `hi` is `versionMax` for an open range such as "3+". */
export interface VersionRange {
  readonly lo: number;
  readonly hi: number;
}

export const versionMax = 0x7fff;

export const primitiveTypes = [
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'uuid',
  'bytes',
  'records',
] as const;
export type PrimitiveName = (typeof primitiveTypes)[number];

export type FieldType =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'array'; readonly element: FieldType }
  | { readonly kind: 'struct'; readonly struct: StructModel };

/** A field's value when it is absent from a version (or tagged and not sent). */
export type DefaultValue =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'bigint'; readonly value: bigint }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'null' }
  | { readonly kind: 'emptyArray' }
  | { readonly kind: 'emptyBytes' }
  | { readonly kind: 'zeroUuid' }
  | { readonly kind: 'struct'; readonly struct: StructModel };

export interface FieldModel {
  /** Name in the schema, e.g. `TopicData`. */
  readonly schemaName: string;
  /** Property name in TypeScript, e.g. `topicData`. */
  readonly name: string;
  readonly type: FieldType;
  /** Supported versions in which the field is on the wire (tagged or not). */
  readonly versions: VersionRange;
  /** Versions in which null is allowed, or null if never. */
  readonly nullableVersions: VersionRange | null;
  /** Versions using compact (flexible) encodings for this field, or null if never. */
  readonly flexibleVersions: VersionRange | null;
  /** Tag number for a tagged field. */
  readonly tag: number | undefined;
  readonly defaultValue: DefaultValue;
}

export interface StructModel {
  /** Name in the schema, e.g. `TopicProduceData` (the message name for the root struct). */
  readonly schemaName: string;
  /** Exported TypeScript type name, unique across all generated modules. */
  readonly typeName: string;
  readonly fields: readonly FieldModel[];
}

export interface MessageModel {
  /** Schema name, e.g. `ProduceRequest`. */
  readonly name: string;
  readonly apiKey: number | undefined;
  /** Versions the codecs cover: the support table's range. */
  readonly versions: VersionRange;
  /** Versions that are flexible (compact encodings, tagged sections), or null. */
  readonly flexibleVersions: VersionRange | null;
  readonly root: StructModel;
  /** Every struct, root first, each before the structs it contains. */
  readonly structs: readonly StructModel[];
}

export function parseVersions(text: string, where: string): VersionRange | null {
  const trimmed = text.trim();
  if (trimmed === 'none') return null;
  const open = /^(\d+)\+$/.exec(trimmed);
  if (open !== null) return { lo: Number(open[1]), hi: versionMax };
  const closed = /^(\d+)(?:-(\d+))?$/.exec(trimmed);
  if (closed !== null) return { lo: Number(closed[1]), hi: Number(closed[2] ?? closed[1]) };
  throw new Error(`${where}: bad version range "${text}"`);
}

export function intersect(a: VersionRange | null, b: VersionRange | null): VersionRange | null {
  if (a === null || b === null) return null;
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo <= hi ? { lo, hi } : null;
}

export function contains(range: VersionRange | null, version: number): boolean {
  return range !== null && version >= range.lo && version <= range.hi;
}

export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Kebab-case module name for an API, e.g. `ApiVersions` → `api-versions`. */
export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function isPrimitive(type: string): type is PrimitiveName {
  return (primitiveTypes as readonly string[]).includes(type);
}

function parseDefault(field: SchemaField, type: FieldType, nullable: boolean, where: string): DefaultValue {
  const raw = field.default;
  if (type.kind === 'struct')
    return raw === 'null' && nullable ? { kind: 'null' } : { kind: 'struct', struct: type.struct };
  if (type.kind === 'array') return raw === 'null' ? { kind: 'null' } : { kind: 'emptyArray' };
  const text = raw === undefined ? undefined : String(raw);
  switch (type.name) {
    case 'bool':
      return { kind: 'boolean', value: text === 'true' };
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return { kind: 'number', value: text === undefined ? 0 : Number(text) };
    case 'int64':
      return { kind: 'bigint', value: text === undefined ? 0n : BigInt(text) };
    case 'string':
      if (text === 'null') {
        if (!nullable) throw new Error(`${where}: default null on a non-nullable string`);
        return { kind: 'null' };
      }
      return { kind: 'string', value: text ?? '' };
    case 'uuid':
      return { kind: 'zeroUuid' };
    case 'bytes':
    case 'records':
      return nullable && (text === 'null' || type.name === 'records')
        ? { kind: 'null' }
        : { kind: 'emptyBytes' };
  }
}

interface BuildContext {
  readonly message: SchemaMessage;
  readonly versions: VersionRange;
  readonly flexible: VersionRange | null;
  /** Schema struct name → built struct, so a common struct is built once. */
  readonly built: Map<string, StructModel>;
  /** Schema struct name → the field list it was built from, to catch two different structs of one name. */
  readonly sources: Map<string, readonly SchemaField[]>;
  readonly structs: StructModel[];
  readonly typeNames: Set<string>;
  readonly apiName: string;
}

/** Whether `name` starts with the whole word(s) `prefix` (`FetchableTopic` does not start with `Fetch`). */
function startsWithWord(name: string, prefix: string): boolean {
  return name.startsWith(prefix) && /^[A-Z]/.test(name.slice(prefix.length));
}

function structTypeName(context: BuildContext, schemaName: string): string {
  const { apiName, message } = context;
  // `MetadataRequestTopic` stays; `LeaderAndIsrPartitionState` in LeaderAndIsrRequest becomes
  // `LeaderAndIsrRequestPartitionState`; `TopicProduceData` becomes `ProduceRequestTopicProduceData`.
  if (startsWithWord(schemaName, message.name)) return schemaName;
  const rest = startsWithWord(schemaName, apiName) ? schemaName.slice(apiName.length) : schemaName;
  return `${message.name}${rest}`;
}

function buildStruct(
  context: BuildContext,
  schemaName: string,
  fields: readonly SchemaField[],
  root: boolean,
): StructModel {
  const existing = context.built.get(schemaName);
  if (existing !== undefined) {
    if (context.sources.get(schemaName) !== fields)
      throw new Error(`${context.message.name}: struct ${schemaName} defined twice`);
    return existing;
  }
  context.sources.set(schemaName, fields);
  const typeName = root ? context.message.name : structTypeName(context, schemaName);
  if (context.typeNames.has(typeName))
    throw new Error(`${context.message.name}: two structs named ${typeName}`);
  context.typeNames.add(typeName);
  const built: FieldModel[] = [];
  const struct: StructModel = { schemaName, typeName, fields: built };
  context.built.set(schemaName, struct);
  context.structs.push(struct);
  for (const field of fields) {
    const model = buildField(context, field, `${context.message.name}.${schemaName}`);
    if (model !== null) built.push(model);
  }
  return struct;
}

function findCommonStruct(context: BuildContext, name: string, where: string): readonly SchemaField[] {
  const common = context.message.commonStructs?.find((struct) => struct.name === name);
  if (common === undefined) throw new Error(`${where}: unknown type ${name}`);
  return common.fields;
}

function buildType(context: BuildContext, field: SchemaField, type: string, where: string): FieldType {
  if (type.startsWith('[]')) {
    const element = buildType(context, field, type.slice(2), where);
    if (element.kind === 'array') throw new Error(`${where}: arrays of arrays are not supported`);
    return { kind: 'array', element };
  }
  if (isPrimitive(type)) return { kind: 'primitive', name: type };
  const fields = field.fields ?? findCommonStruct(context, type, where);
  return { kind: 'struct', struct: buildStruct(context, type, fields, false) };
}

function buildField(context: BuildContext, field: SchemaField, parent: string): FieldModel | null {
  const where = `${parent}.${field.name}`;
  const versions = intersect(parseVersions(field.versions, where), context.versions);
  if (versions === null) return null;
  let tag: number | undefined;
  if (field.tag !== undefined) {
    const tagged = parseVersions(field.taggedVersions ?? '', where);
    if (
      tagged === null ||
      tagged.lo !== parseVersions(field.versions, where)?.lo ||
      tagged.hi !== versionMax
    ) {
      throw new Error(`${where}: tagged fields must be tagged in all their versions`);
    }
    if (intersect(versions, context.flexible)?.lo !== versions.lo)
      throw new Error(`${where}: tagged field in a non-flexible version`);
    tag = field.tag;
  }
  const nullableVersions = intersect(parseVersions(field.nullableVersions ?? 'none', where), versions);
  const flexibleOverride =
    field.flexibleVersions === undefined ? undefined : parseVersions(field.flexibleVersions, where);
  const flexibleVersions = intersect(
    flexibleOverride === undefined ? context.flexible : flexibleOverride,
    versions,
  );
  const type = buildType(context, field, field.type, where);
  const nullable = nullableVersions !== null;
  if (nullable && type.kind === 'primitive' && !['string', 'bytes', 'records'].includes(type.name)) {
    throw new Error(`${where}: ${type.name} cannot be nullable`);
  }
  const defaultValue = parseDefault(field, type, nullable, where);
  return {
    schemaName: field.name,
    name: camelCase(field.name),
    type,
    versions,
    nullableVersions,
    flexibleVersions,
    tag,
    defaultValue,
  };
}

/**
 * Builds the model of one message for `versions` (the supported range). `apiName` is the API's name
 * without Request/Response (used to shorten struct type names); `typeNames` collects exported type
 * names across modules so a collision fails generation instead of compilation.
 */
export function buildMessage(
  message: SchemaMessage,
  versions: VersionRange,
  apiName: string,
  typeNames: Set<string>,
): MessageModel {
  const valid = parseVersions(message.validVersions, message.name);
  if (valid === null || versions.lo < valid.lo || versions.hi > valid.hi) {
    throw new Error(
      `${message.name}: supported versions ${versions.lo}-${versions.hi} outside ${message.validVersions}`,
    );
  }
  const flexible = parseVersions(message.flexibleVersions, message.name);
  const context: BuildContext = {
    message,
    versions,
    flexible: intersect(flexible, versions),
    built: new Map(),
    sources: new Map(),
    structs: [],
    typeNames,
    apiName,
  };
  const root = buildStruct(context, message.name, message.fields, true);
  return {
    name: message.name,
    apiKey: message.apiKey,
    versions,
    flexibleVersions: context.flexible,
    root,
    structs: context.structs,
  };
}

/** Fields written in the fixed part of the struct in `version`. */
export function isFixedIn(field: FieldModel, version: number): boolean {
  return field.tag === undefined && contains(field.versions, version);
}
