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
  /** Most elements one protocol array may declare before we refuse to allocate for it. */
  arrayLengthMax: 10_000_000, // elements
});
