import { loadNativeModule } from './compression/native-module.ts';

/**
 * CRC32C (Castagnoli), the checksum of Kafka v2 record batches. The native implementation from
 * @node-rs/crc32 is used when it loads; the portable slice-by-8 table version below is the fallback
 * and the test oracle for it.
 */

const polynomial = 0x82f63b78; // reversed Castagnoli polynomial

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = first[n]!;
    for (let t = 1; t < 8; t++) {
      c = (first[c & 0xff]! ^ (c >>> 8)) >>> 0;
      tables[t]![n] = c;
    }
  }
  return tables;
}

const [t0, t1, t2, t3, t4, t5, t6, t7] = buildTables() as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

/** Portable CRC32C, slice-by-8. `initial` continues a previous CRC (pass its result). */
export function crc32cPortable(data: Uint8Array, initial = 0): number {
  let crc = ~initial >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  while (i < end8) {
    const a = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
    i += 8;
  }
  while (i < data.length) crc = t0[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

type Crc32cFunction = (data: Buffer, initial?: number) => number;

const native = loadNativeModule<{ crc32c: Crc32cFunction }>('@node-rs/crc32')?.crc32c;

/** True when the native implementation is in use. */
export const crc32cIsNative = native !== undefined;

/** CRC32C of `data`, native when available. Returns an unsigned 32-bit integer. */
export const crc32c: (data: Buffer, initial?: number) => number =
  native === undefined ? crc32cPortable : (data, initial = 0) => native(data, initial) >>> 0;
