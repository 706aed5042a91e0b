/**
 * Human units for sizes and durations, as the CLI accepts them: `1GiB`, `512 MB`, `1048576`,
 * `7d`, `12h`, `30s`, `250ms`. Binary (KiB, MiB …) and decimal (KB, MB …) units both work.
 */
const byteUnits: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const durationUnits: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const quantity = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;

/** Bytes in `text`; throws a readable Error for anything else. */
export function parseBytes(text: string): number {
  const match = quantity.exec(text);
  const unit = byteUnits[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined)
    throw new Error(`"${text}" is not a size (try 512MiB, 1GB or 1048576)`);
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(Math.round(bytes))) throw new Error(`size "${text}" is too large`);
  return Math.round(bytes);
}

/** Milliseconds in `text` (a bare number is milliseconds); throws a readable Error otherwise. */
export function parseDuration(text: string): number {
  const match = quantity.exec(text);
  const unit = match?.[2] === '' ? 1 : durationUnits[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined)
    throw new Error(`"${text}" is not a duration (try 250ms, 30s, 12h or 7d)`);
  return Math.round(Number(match[1]) * unit);
}

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}
