import type { Logger } from '../base/logger.ts';
import type { ConnectionContext, RequestHandler } from '../net/server.ts';
import { type ApiSupport, supportFor } from '../protocol/api-support.ts';
import { apiKeys, requestHeaderVersion, responseHeaderVersion } from '../protocol/messages/api-keys.ts';
import { createApiVersionsResponse, encodeApiVersionsResponse } from '../protocol/messages/api-versions.ts';
import { type ApiCodec, apiCodecs } from '../protocol/messages/codecs.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { decodeRequestHeader } from '../protocol/messages/request-header.ts';
import { encodeResponseHeader } from '../protocol/messages/response-header.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import type { ApiHandler, RequestContext, SpuServices } from './handler.ts';

type Codecs = typeof apiCodecs;
type RequestOf<K extends keyof Codecs> = Parameters<Codecs[K]['encodeRequest']>[1];
type ResponseOf<K extends keyof Codecs> = Parameters<Codecs[K]['encodeResponse']>[1];

/** The APIs this SPU answers, by key; ApiVersions advertises exactly these. */
export type HandlerTable = { readonly [K in keyof Codecs]?: ApiHandler<RequestOf<K>, ResponseOf<K>> };

/** Bytes every request starts with: api key, api version, correlation id. */
const requestPrefixBytes = 8;

/**
 * First block of each response's Writer. Most responses are small, and a response waiting in a slow
 * client's socket keeps its whole first block alive: with the Writer's default 8 KiB block, a client
 * that never reads would hold ~100 times more memory than the bytes the connection's bufferedBytesMax
 * counts. Blocks this small come from Node's shared buffer pool; larger responses grow as usual.
 */
const responseFirstBlockBytes = 256; // bytes

export interface AdvertisedApi extends ApiSupport {
  readonly apiKey: number;
}

/** The (api key, version range) pairs that ApiVersions advertises: those with a handler. */
export function advertisedApis(handlers: HandlerTable): AdvertisedApi[] {
  const advertised: AdvertisedApi[] = [];
  for (const key of Object.keys(handlers)) {
    const support = supportFor(Number(key));
    if (support !== undefined) advertised.push({ apiKey: Number(key), ...support });
  }
  return advertised.sort((a, b) => a.apiKey - b.apiKey);
}

function frameResponse(
  correlationId: number,
  headerVersion: number,
  encodeBody: (w: Writer) => void,
): Buffer[] {
  const w = new Writer(responseFirstBlockBytes);
  const size = w.reserve(4);
  encodeResponseHeader(w, { correlationId }, headerVersion);
  encodeBody(w);
  size.buffer.writeInt32BE(w.length - 4, size.offset);
  return w.chunks();
}

/**
 * Turns request frames into response frames: reads the header, checks the API and version against
 * the support table, decodes the body with the generated codec, runs the handler and encodes its
 * answer. A version the SPU does not speak gets UNSUPPORTED_VERSION for ApiVersions (answered as v0,
 * with the SPU's own ranges, so the client can pick again); for any other API, as in Kafka, the
 * request cannot be parsed and the connection is closed.
 */
export function createRequestRouter(spu: SpuServices, handlers: HandlerTable): RequestHandler {
  const logger: Logger = spu.logger.child({ component: 'router' });
  const advertised = advertisedApis(handlers);
  const requests = spu.metrics.counter('tide_requests_total', 'requests received');
  const table = handlers as Readonly<Record<number, ApiHandler<unknown, unknown> | undefined>>;
  const codecs = apiCodecs as Readonly<Record<number, ApiCodec<unknown, unknown> | undefined>>;

  return async (frame: Buffer, connection: ConnectionContext) => {
    if (frame.length < requestPrefixBytes)
      throw new ProtocolError(`request of ${frame.length} bytes has no header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    requests.add();
    const handler = table[apiKey];
    const codec = codecs[apiKey];
    const support = supportFor(apiKey);
    if (handler === undefined || codec === undefined || support === undefined) {
      throw new ProtocolError(`unsupported API key ${apiKey}`);
    }
    if (apiVersion < support.minVersion || apiVersion > support.maxVersion) {
      if (apiKey !== apiKeys.ApiVersions)
        throw new ProtocolError(`unsupported version ${apiVersion} of ${support.name}`);
      logger.debug('ApiVersions version not supported', { apiVersion, connection: connection.id });
      const body = createApiVersionsResponse({
        errorCode: errorCodes.UNSUPPORTED_VERSION,
        apiKeys: advertised,
      });
      return frameResponse(correlationId, 0, (w) => encodeApiVersionsResponse(w, body, 0));
    }
    const reader = new Reader(frame);
    const header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
    const request = codec.decodeRequest(reader, apiVersion);
    const context: RequestContext = {
      apiKey,
      apiVersion,
      correlationId,
      clientId: header.clientId,
      connection,
    };
    const response = await handler(request, context, spu);
    if (response === undefined) return undefined;
    return frameResponse(correlationId, responseHeaderVersion(apiKey, apiVersion), (w) =>
      codec.encodeResponse(w, response, apiVersion),
    );
  };
}
