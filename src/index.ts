/**
 * The `tide` package's public API. The protocol layer is exported for tools that speak Kafka directly;
 * the client library joins it when it lands.
 */

export { tideVersion } from './base/version.ts';
export { ProtocolError } from './protocol/protocol-error.ts';
export { Reader } from './protocol/reader.ts';
export { Writer } from './protocol/writer.ts';
