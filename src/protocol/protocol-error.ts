/**
 * The one error type the protocol layer throws for input it cannot accept: short reads, lengths that
 * run past the frame, malformed varints, bad CRCs, unknown codecs. Callers map it to a Kafka error
 * code or close the connection; it never signals a bug in Tide itself.
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
