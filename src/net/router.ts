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
import type { ApiKeyOf, RequestOf, ResponseOf } from './kafka-connection.ts';
import type { ConnectionContext, RequestHandler } from './server.ts';

/**
 * The request router that every Kafka listener uses (an SPU's, the SC's): reads the header,
 * checks the API and version against the support table, decodes the body with the generated
 * codec, runs the handler from a table keyed by api key and encodes its answer. `Services` is
 * what the handlers of that process may use.
 */

/** One request's header facts and its connection. */
export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionContext;
}

/**
 * Answers one decoded request. Resolving with undefined sends no response (acks=0 produce). Errors
 * the client should see are Kafka error codes inside the response; a thrown error closes the
 * connection and is logged, so handlers throw only for requests that make no sense at all.
 */
export type RouteHandler<Request, Response, Services> = (
  request: Request,
  context: RequestContext,
  services: Services,
) => Promise<Response | undefined>;

/** The APIs a listener answers, by key; ApiVersions advertises exactly these. */
export type RouteTable<Services> = {
  readonly [K in ApiKeyOf]?: RouteHandler<RequestOf<K>, ResponseOf<K>, Services>;
};

export interface AdvertisedApi extends ApiSupport {
  readonly apiKey: number;
}

/** Bytes every request starts with: api key, api version, correlation id. */
const requestPrefixBytes = 8;

/**
 * First block of each response's Writer. Most responses are small, and a response waiting in a slow
 * client's socket keeps its whole first block alive: with the Writer's default 8 KiB block, a client
 * that never reads would hold ~100 times more memory than the bytes the connection's bufferedBytesMax
 * counts. Blocks this small come from Node's shared buffer pool; larger responses grow as usual.
 */
const responseFirstBlockBytes = 256; // bytes

/** The (api key, version range) pairs that ApiVersions advertises: those with a handler. */
export function advertisedApis<Services>(handlers: RouteTable<Services>): AdvertisedApi[] {
  const advertised: AdvertisedApi[] = [];
  for (const key of Object.keys(handlers)) {
    const support = supportFor(Number(key));
    if (support !== undefined) advertised.push({ apiKey: Number(key), ...support });
  }
  return advertised.sort((a, b) => a.apiKey - b.apiKey);
}

export interface RouterOptions<Services> {
  readonly handlers: RouteTable<Services>;
  readonly services: Services;
  /** Called once per request frame, before it is decoded (the SPU counts requests). */
  readonly onRequest?: (apiKey: number) => void;
}

/**
 * Turns request frames into response frames. A version the listener does not speak gets
 * UNSUPPORTED_VERSION for ApiVersions (answered as v0, with the listener's own ranges, so the
 * client can pick again); for any other API, as in Kafka, the request cannot be parsed and the
 * connection is closed. So is a request for an API without a handler.
 */
export function createRouter<Services>(options: RouterOptions<Services>): RequestHandler {
  const { handlers, services, onRequest } = options;
  const advertised = advertisedApis(handlers);
  const table = handlers as Readonly<Record<number, RouteHandler<unknown, unknown, Services> | undefined>>;
  const codecs = apiCodecs as Readonly<Record<number, ApiCodec<unknown, unknown> | undefined>>;

  return async (frame: Buffer, connection: ConnectionContext) => {
    if (frame.length < requestPrefixBytes)
      throw new ProtocolError(`request of ${frame.length} bytes has no header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    onRequest?.(apiKey);
    const handler = table[apiKey];
    const codec = codecs[apiKey];
    const support = supportFor(apiKey);
    if (handler === undefined || codec === undefined || support === undefined) {
      throw new ProtocolError(`unsupported API key ${apiKey}`);
    }
    if (apiVersion < support.minVersion || apiVersion > support.maxVersion) {
      if (apiKey !== apiKeys.ApiVersions)
        throw new ProtocolError(`unsupported version ${apiVersion} of ${support.name}`);
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
    const response = await handler(request, context, services);
    if (response === undefined) return undefined;
    return frameResponse(correlationId, responseHeaderVersion(apiKey, apiVersion), (w) =>
      codec.encodeResponse(w, response, apiVersion),
    );
  };
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

/** ApiVersions: the listener's own version ranges, for the APIs it has handlers for. */
export function apiVersionsHandler<Services>(
  advertised: () => readonly AdvertisedApi[],
): RouteHandler<RequestOf<typeof apiKeys.ApiVersions>, ResponseOf<typeof apiKeys.ApiVersions>, Services> {
  return async () =>
    createApiVersionsResponse({
      errorCode: errorCodes.NONE,
      apiKeys: advertised().map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
      finalizedFeaturesEpoch: -1n,
    });
}
