/**
 * Emits the modules around the per-API codecs: shared helpers, the API key map and header-version
 * rules, the codec dispatch table, the Kafka error-code table and the index.
 */
import { quote } from './emit-common.ts';
import { generatedLine, generatedPrefix, noticeLine } from './emit-module.ts';
import { kebabCase } from './model.ts';

/** What the support modules need to know about one generated API. */
export interface ApiSummary {
  readonly apiKey: number;
  /** API name without Request/Response, e.g. `ApiVersions`. */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version per the schema (possibly beyond the supported range), or null. */
  readonly flexibleVersionMin: number | null;
}

export interface KafkaErrorEntry {
  readonly code: number;
  readonly name: string;
  readonly retriable: boolean;
  readonly message: string;
}

export function emitHelpers(): string {
  return `${generatedPrefix}: do not edit.

/** Small values and checks shared by the generated codecs. */
import { ProtocolError } from '../protocol-error.ts';

/** Default of absent uuid fields: sixteen zero bytes, shared, so never write into it. */
export const zeroUuid: Buffer = Buffer.alloc(16);

/** Default of absent bytes fields. */
export const emptyBytes: Buffer = Buffer.alloc(0);

export function isZeroUuid(value: Buffer): boolean {
  return value.length === 16 && value.readBigUInt64BE(0) === 0n && value.readBigUInt64BE(8) === 0n;
}

/** A field value that the version being encoded cannot carry as null. */
export function nonNull<T>(value: T | null, field: string, version: number): T {
  if (value === null) throw new ProtocolError(\`\${field} is null, which version \${version} cannot encode\`);
  return value;
}
`;
}

export function emitApiKeys(apis: readonly ApiSummary[]): string {
  const keys = apis.map((api) => `${api.name}: ${api.apiKey},`);
  const flexible = apis
    .filter((api) => api.flexibleVersionMin !== null)
    .map((api) => `${api.apiKey}: ${api.flexibleVersionMin},`);
  return `${generatedLine}
${noticeLine}

/** Kafka API keys of the generated APIs, by name. */
export const apiKeys = {
${keys.join('\n')}
} as const;

export type ApiName = keyof typeof apiKeys;

/** First flexible version of each API (from its schema, even beyond the versions Tide supports). */
const flexibleVersionMin: Readonly<Record<number, number>> = {
${flexible.join('\n')}
};

/** Whether (apiKey, apiVersion) uses compact encodings and tagged fields; unknown APIs are not flexible. */
export function isFlexibleVersion(apiKey: number, apiVersion: number): boolean {
  const first = flexibleVersionMin[apiKey];
  return first !== undefined && apiVersion >= first;
}

/** Request header version: 2 (with tagged fields) for flexible versions, else 1. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  return isFlexibleVersion(apiKey, apiVersion) ? 2 : 1;
}

/**
 * Response header version: 1 for flexible versions, else 0. ApiVersions responses always use 0, so a
 * client that does not yet know the broker's versions can read the header.
 */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === apiKeys.ApiVersions) return 0;
  return isFlexibleVersion(apiKey, apiVersion) ? 1 : 0;
}
`;
}

export function emitCodecs(apis: readonly ApiSummary[]): string {
  const imports = [...apis]
    .sort((a, b) => kebabCase(a.name).localeCompare(kebabCase(b.name)))
    .map((api) => {
      const names = ['Request', 'Response'].flatMap((side) => [
        `decode${api.name}${side}`,
        `encode${api.name}${side}`,
      ]);
      const types = [`${api.name}Request`, `${api.name}Response`].map((name) => `type ${name}`);
      return `import { ${[...names, ...types].join(', ')} } from './${kebabCase(api.name)}.ts';`;
    });
  const entries = apis.map(
    (api) => `${api.apiKey}: {
  apiKey: ${api.apiKey},
  name: ${quote(api.name)},
  minVersion: ${api.minVersion},
  maxVersion: ${api.maxVersion},
  encodeRequest: encode${api.name}Request,
  decodeRequest: decode${api.name}Request,
  encodeResponse: encode${api.name}Response,
  decodeResponse: decode${api.name}Response,
} satisfies ApiCodec<${api.name}Request, ${api.name}Response>,`,
  );
  return `${generatedLine}
${noticeLine}

/** Codecs of every generated API by key, for dispatch on a frame's API key. */
import type { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';
${imports.join('\n')}

export interface ApiCodec<Request, Response> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  encodeRequest(w: Writer, value: Request, version: number): void;
  decodeRequest(r: Reader, version: number): Request;
  encodeResponse(w: Writer, value: Response, version: number): void;
  decodeResponse(r: Reader, version: number): Response;
}

export const apiCodecs = {
${entries.join('\n')}
} as const;

const codecsByKey: Readonly<Record<number, ApiCodec<unknown, unknown>>> = apiCodecs;

/** The codecs for an API key, or undefined when Tide does not speak that API. */
export function codecFor(apiKey: number): ApiCodec<unknown, unknown> | undefined {
  return codecsByKey[apiKey];
}
`;
}

export function emitErrorCodes(errors: readonly KafkaErrorEntry[]): string {
  const names = errors.map((error) => `${error.name}: ${error.code},`);
  const rows = errors.map(
    (error) =>
      `{ code: ${error.code}, name: ${quote(error.name)}, retriable: ${error.retriable}, message: ${quote(error.message)} },`,
  );
  return `${generatedPrefix} from tools/kafka-errors.json: do not edit.

/** Kafka's error codes (the numbers every client understands), from tools/kafka-errors.json. */
export const errorCodes = {
${names.join('\n')}
} as const;

export type ErrorName = keyof typeof errorCodes;
export type ErrorCode = (typeof errorCodes)[ErrorName];

export interface KafkaError {
  readonly code: number;
  readonly name: ErrorName;
  /** Whether a client may retry the same request and expect it to succeed. */
  readonly retriable: boolean;
  readonly message: string;
}

export const kafkaErrors: readonly KafkaError[] = Object.freeze([
${rows.join('\n')}
]);

const errorsByCode: ReadonlyMap<number, KafkaError> = new Map(kafkaErrors.map((error) => [error.code, error]));

/** The error with this code, or undefined for a code Tide does not know. */
export function errorByCode(code: number): KafkaError | undefined {
  return errorsByCode.get(code);
}

/** The error's name, or \`UNKNOWN_ERROR_CODE_<code>\` for an unknown code (for logs). */
export function errorName(code: number): string {
  return errorsByCode.get(code)?.name ?? \`UNKNOWN_ERROR_CODE_\${code}\`;
}

export function isRetriable(code: number): boolean {
  return errorsByCode.get(code)?.retriable ?? false;
}
`;
}

export function emitIndex(modules: readonly string[]): string {
  const lines = [...modules].sort().map((module) => `export * from './${module}.ts';`);
  return `${generatedLine}
${noticeLine}

${lines.join('\n')}
`;
}
