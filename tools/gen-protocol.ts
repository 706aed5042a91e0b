/**
 * Generates src/protocol/messages/ from Kafka's JSON message schemas: one module per API listed in
 * src/protocol/api-support.ts, with request and response types, `create…` functions and codecs for
 * exactly the supported versions, plus request/response header codecs, the API key map with the
 * header-version rules, a codec dispatch table, the error-code table (from tools/kafka-errors.json),
 * field descriptors for tests and an index.
 *
 * Usage: npm run gen:protocol -- [schema dir…] [--out dir]
 *   schema dirs default to tools/kafka-protocol/messages (a copy of the Kafka schemas Tide uses, see its
 *   NOTICE) and tools/tide-protocol/messages (Tide's extension APIs, keys 1000+, same format); a schema
 *   is read from the first dir that has it. --out defaults to src/protocol/messages. Output is
 *   formatted (and imports sorted) by Biome.
 *
 * Pipeline: schema.ts reads a file (stripping `//` comments), model.ts turns it into structs and
 * fields with version ranges cut to the supported range, emit-*.ts write TypeScript.
 *
 * Schema type → TypeScript type:
 *   bool → boolean; int8, int16, uint16, int32, uint32, float64 → number; int64 → bigint;
 *   string → string; uuid → Buffer (16 bytes; default all zeros); bytes → Buffer;
 *   records → Buffer | null (a view of the batches, never copied); []T → T[];
 *   a struct → an interface named <Message><Struct>, unique across modules (TopicProduceData in
 *   ProduceRequest → ProduceRequestTopicProduceData; a name already starting with the message name
 *   stays: MetadataRequestTopic; one starting with the API name swaps it for the message name:
 *   LeaderAndIsrPartitionState in LeaderAndIsrRequest → LeaderAndIsrRequestPartitionState).
 *   A field nullable in any supported version gets `| null`. Field names are camelCased.
 *
 * Wire rules applied (per version, decided at generation time into straight-line code):
 *   - fields exist only in their `versions`; absent ones decode to their default (schema `default`,
 *     else 0, '', false, [], zero uuid, empty bytes, or a struct of defaults) and are not encoded:
 *     a non-default value in a version that lacks the field is silently dropped, like Kafka's
 *     ignorable fields;
 *   - flexible versions use compact strings, bytes and arrays and end every struct with a
 *     tagged-field section; tagged fields are written only when they differ from their default,
 *     unknown tags are skipped when reading;
 *   - null where the version does not allow it: decoding throws ProtocolError, encoding throws
 *     ProtocolError (the value cannot be represented);
 *   - array counts are checked against the bytes left (times the smallest element size) before
 *     anything is allocated.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiSupport } from '../src/protocol/api-support.ts';
import { emitDescriptors } from './gen-protocol/emit-descriptors.ts';
import { emitApiModule, generatedPrefix } from './gen-protocol/emit-module.ts';
import {
  type ApiSummary,
  emitApiKeys,
  emitCodecs,
  emitErrorCodes,
  emitHelpers,
  emitIndex,
  type KafkaErrorEntry,
} from './gen-protocol/emit-support.ts';
import { buildMessage, kebabCase, type MessageModel, parseVersions } from './gen-protocol/model.ts';
import { readSchema, type SchemaMessage } from './gen-protocol/schema.ts';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const defaultSchemaDirs = [
  resolve(repositoryRoot, 'tools/kafka-protocol/messages'),
  resolve(repositoryRoot, 'tools/tide-protocol/messages'),
];
/** API keys from here up are Tide's own extensions (modules say so instead of Kafka's notice). */
const tideApiKeyMin = 1000;
const defaultOutDir = join(repositoryRoot, 'src/protocol/messages');

/** Header versions Tide reads and writes: request v1/v2, response v0/v1. */
const headerVersions = Object.freeze({
  RequestHeader: { lo: 1, hi: 2 },
  ResponseHeader: { lo: 0, hi: 1 },
});

interface GeneratedApi {
  readonly summary: ApiSummary;
  readonly messages: readonly MessageModel[];
}

/** Reads `<name>.json` from the first of the dirs that holds it. */
function readSchemaFrom(schemaDirs: readonly string[], name: string): SchemaMessage {
  const dir = schemaDirs.find((candidate) => existsSync(join(candidate, `${name}.json`)));
  if (dir === undefined) throw new Error(`${name}.json: in none of ${schemaDirs.join(', ')}`);
  return readSchema(dir, name);
}

function generateApi(
  schemaDirs: readonly string[],
  apiKey: number,
  name: string,
  min: number,
  max: number,
  typeNames: Set<string>,
): GeneratedApi {
  const messages = ['Request', 'Response'].map((side) => {
    const schema = readSchemaFrom(schemaDirs, `${name}${side}`);
    if (schema.apiKey !== apiKey)
      throw new Error(`${schema.name}: api key ${schema.apiKey}, support table says ${apiKey}`);
    return { schema, model: buildMessage(schema, { lo: min, hi: max }, name, typeNames) };
  });
  const flexible = messages.map(
    ({ schema }) => parseVersions(schema.flexibleVersions, schema.name)?.lo ?? null,
  );
  if (flexible[0] !== flexible[1])
    throw new Error(`${name}: request and response disagree on flexible versions`);
  return {
    summary: { apiKey, name, minVersion: min, maxVersion: max, flexibleVersionMin: flexible[0] ?? null },
    messages: messages.map(({ model }) => model),
  };
}

function generateHeader(
  schemaDirs: readonly string[],
  name: keyof typeof headerVersions,
  typeNames: Set<string>,
): MessageModel {
  return buildMessage(readSchemaFrom(schemaDirs, name), headerVersions[name], name, typeNames);
}

/** Every generated file, by file name, before formatting. */
export function generateFiles(schemaDirs: readonly string[], errorsPath: string): Map<string, string> {
  const files = new Map<string, string>();
  const typeNames = new Set<string>();
  const apis: GeneratedApi[] = [];
  for (const [key, support] of Object.entries(apiSupport)) {
    const api = generateApi(
      schemaDirs,
      Number(key),
      support.name,
      support.minVersion,
      support.maxVersion,
      typeNames,
    );
    apis.push(api);
    const origin = Number(key) >= tideApiKeyMin ? 'tide' : 'kafka';
    files.set(`${kebabCase(support.name)}.ts`, emitApiModule(support.name, api.messages, origin));
  }
  const requestHeader = generateHeader(schemaDirs, 'RequestHeader', typeNames);
  const responseHeader = generateHeader(schemaDirs, 'ResponseHeader', typeNames);
  files.set('request-header.ts', emitApiModule('Request header', [requestHeader]));
  files.set('response-header.ts', emitApiModule('Response header', [responseHeader]));
  const summaries = apis.map((api) => api.summary);
  const errors = JSON.parse(readFileSync(errorsPath, 'utf8')) as KafkaErrorEntry[];
  files.set('helpers.ts', emitHelpers());
  files.set('api-keys.ts', emitApiKeys(summaries));
  files.set('codecs.ts', emitCodecs(summaries));
  files.set('error-codes.ts', emitErrorCodes(errors));
  const allMessages = [...apis.flatMap((api) => api.messages), requestHeader, responseHeader];
  files.set('descriptors.ts', emitDescriptors(allMessages));
  // The index leaves out helpers (internal) and descriptors (tests only).
  const exported = [...files.keys()].filter((file) => file !== 'helpers.ts' && file !== 'descriptors.ts');
  files.set('index.ts', emitIndex(exported.map((file) => file.replace(/\.ts$/, ''))));
  return files;
}

/** Writes the files, removes generated files no longer produced, and formats the output with Biome. */
export function writeFiles(files: Map<string, string>, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  for (const entry of readdirSync(outDir)) {
    if (!entry.endsWith('.ts') || files.has(entry)) continue;
    const path = join(outDir, entry);
    if (readFileSync(path, 'utf8').startsWith(generatedPrefix)) rmSync(path);
  }
  const paths = [...files].map(([name, content]) => {
    const path = join(outDir, name);
    writeFileSync(path, `${content.trimEnd()}\n`);
    return path;
  });
  const biome = join(repositoryRoot, 'node_modules/.bin/biome');
  // `check --write` formats and sorts imports; a lint finding it cannot fix fails generation.
  const result = spawnSync(biome, ['check', '--write', ...paths], { cwd: repositoryRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`biome check failed:\n${result.stdout}${result.stderr}`);
}

function main(argv: readonly string[]): void {
  const schemaDirs: string[] = [];
  let outDir = defaultOutDir;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i]!;
    if (argument === '--out') outDir = resolve(argv[++i] ?? '');
    else if (argument.startsWith('--')) throw new Error(`unknown option ${argument}`);
    else schemaDirs.push(resolve(argument));
  }
  const dirs = schemaDirs.length > 0 ? schemaDirs : defaultSchemaDirs;
  const files = generateFiles(dirs, join(repositoryRoot, 'tools/kafka-errors.json'));
  writeFiles(files, outDir);
  process.stdout.write(`wrote ${files.size} files to ${outDir}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
