/**
 * Reading Kafka's JSON message schemas: strip the `//` comments the files carry (they are not JSON),
 * parse, and check the shape just enough that the model can trust it. Nothing here knows about
 * TypeScript or wire encodings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One field as written in a schema file. */
export interface SchemaField {
  readonly name: string;
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly flexibleVersions?: string;
  readonly default?: string | number | boolean;
  readonly tag?: number;
  readonly taggedVersions?: string;
  readonly fields?: readonly SchemaField[];
}

export interface SchemaStruct {
  readonly name: string;
  readonly versions: string;
  readonly fields: readonly SchemaField[];
}

/** One schema file: a request, a response or a header. */
export interface SchemaMessage {
  readonly apiKey?: number;
  readonly type: 'request' | 'response' | 'header' | 'data';
  readonly name: string;
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly SchemaField[];
  readonly commonStructs?: readonly SchemaStruct[];
}

/** Removes `//` comments outside string literals, keeping line breaks so JSON errors keep their lines. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

function checkField(field: SchemaField, where: string): void {
  if (
    typeof field.name !== 'string' ||
    typeof field.type !== 'string' ||
    typeof field.versions !== 'string'
  ) {
    throw new Error(`${where}: field without name, type or versions`);
  }
  for (const child of field.fields ?? []) checkField(child, `${where}.${field.name}`);
}

/** Parses one schema text (comments allowed). */
export function parseSchema(text: string, source: string): SchemaMessage {
  const message = JSON.parse(stripComments(text)) as SchemaMessage;
  if (typeof message.name !== 'string' || !Array.isArray(message.fields)) {
    throw new Error(`${source}: not a message schema`);
  }
  if (typeof message.validVersions !== 'string') throw new Error(`${source}: validVersions missing`);
  for (const field of message.fields) checkField(field, message.name);
  for (const struct of message.commonStructs ?? []) {
    for (const field of struct.fields) checkField(field, `${message.name}.${struct.name}`);
  }
  return message;
}

/** Reads `<dir>/<name>.json`, e.g. `ProduceRequest`. */
export function readSchema(dir: string, name: string): SchemaMessage {
  const path = join(dir, `${name}.json`);
  return parseSchema(readFileSync(path, 'utf8'), path);
}
