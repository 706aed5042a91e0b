import { readFileSync } from 'node:fs';

/** Tide's version, from the package manifest. */
export const tideVersion: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
