/**
 * Named limits shared by several components. Units and qualifiers come last in each name.
 * Component-specific defaults live beside their component, in one frozen object each.
 */
export const limits = Object.freeze({
  /** Largest Kafka frame (request or response, excluding the 4-byte length prefix) accepted. */
  frameBytesMax: 100 * 1024 * 1024, // bytes
  /** Largest record batch accepted from a producer, before any topic-level max.message.bytes. */
  batchBytesMax: 16 * 1024 * 1024, // bytes
  /** Largest decompressed size of one record batch's records section. */
  batchDecompressedBytesMax: 64 * 1024 * 1024, // bytes
  /** Most records one batch may declare. */
  batchRecordsMax: 1_000_000, // records
  /**
   * Most headers one produced record may carry. Real records carry a handful (tracing, schema ids);
   * 10,000 leaves room for any sane use while a record cannot make the broker walk millions of them.
   */
  recordHeadersMax: 10_000, // headers
  /**
   * Most headers all records of one produced batch may carry together: with batchRecordsMax it caps
   * the work of validating one batch near two million fields, whatever its bytes claim.
   */
  batchHeadersMax: 1_000_000, // headers
  /**
   * (De)compressions of produced batches one SPU runs at once. Each may hold up to
   * batchDecompressedBytesMax of output, so two bound that memory near 128 MiB whatever the number of
   * clients, keep pace with two cores, and leave libuv's other threads to file I/O.
   */
  codecSlotsMax: 2, // concurrent codec jobs
  /** Most elements one protocol array may declare before we refuse to allocate for it. */
  arrayLengthMax: 10_000_000, // elements
});
