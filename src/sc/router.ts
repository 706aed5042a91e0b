import type { RequestHandler } from '../net/server.ts';
import { supportFor } from '../protocol/api-support.ts';
import { apiKeys, requestHeaderVersion, responseHeaderVersion } from '../protocol/messages/api-keys.ts';
import {
  createApiVersionsResponse,
  createApiVersionsResponseApiVersion,
} from '../protocol/messages/api-versions.ts';
import { type ApiCodec, apiCodecs } from '../protocol/messages/codecs.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { decodeRequestHeader } from '../protocol/messages/request-header.ts';
import { encodeResponseHeader } from '../protocol/messages/response-header.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';

/**
 * The SC's request router: Kafka framing in and out, the generated codecs, one handler per API.
 * ApiVersions is answered here with the APIs that have a handler. A request for another API, or a
 * version outside the support table, cannot be parsed: the connection is closed (as Kafka does).
 */

type Codecs = typeof apiCodecs;
type RequestOf<K extends keyof Codecs> = Parameters<Codecs[K]['encodeRequest']>[1];
type ResponseOf<K extends keyof Codecs> = Parameters<Codecs[K]['encodeResponse']>[1];

export type ScHandler<Request, Response> = (request: Request, apiVersion: number) => Promise<Response>;
export type ScHandlerTable = { readonly [K in keyof Codecs]?: ScHandler<RequestOf<K>, ResponseOf<K>> };

export function createScRouter(handlers: ScHandlerTable): RequestHandler {
  const table = handlers as Readonly<Record<number, ScHandler<unknown, unknown> | undefined>>;
  const codecs = apiCodecs as Readonly<Record<number, ApiCodec<unknown, unknown> | undefined>>;
  const advertised = [apiKeys.ApiVersions, ...Object.keys(handlers).map(Number)].sort((a, b) => a - b);
  const apiVersions = (errorCode: number) =>
    createApiVersionsResponse({
      errorCode,
      apiKeys: advertised.map((apiKey) =>
        createApiVersionsResponseApiVersion({
          apiKey,
          minVersion: supportFor(apiKey)?.minVersion ?? 0,
          maxVersion: supportFor(apiKey)?.maxVersion ?? 0,
        }),
      ),
    });
  return async (frame) => {
    if (frame.length < 8) throw new ProtocolError(`request of ${frame.length} bytes has no header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const support = supportFor(apiKey);
    const codec = codecs[apiKey];
    if (support === undefined || codec === undefined)
      throw new ProtocolError(`unsupported API key ${apiKey}`);
    const supported = apiVersion >= support.minVersion && apiVersion <= support.maxVersion;
    if (apiKey === apiKeys.ApiVersions && !supported)
      return respond(correlationId, 0, (w) =>
        codec.encodeResponse(w, apiVersions(errorCodes.UNSUPPORTED_VERSION), 0),
      );
    const handler = table[apiKey];
    if (!supported) throw new ProtocolError(`unsupported version ${apiVersion} of ${support.name}`);
    const reader = new Reader(frame);
    decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
    const request = codec.decodeRequest(reader, apiVersion);
    let response: unknown;
    if (apiKey === apiKeys.ApiVersions) response = apiVersions(errorCodes.NONE);
    else if (handler === undefined) throw new ProtocolError(`the SC does not answer ${support.name}`);
    else response = await handler(request, apiVersion);
    return respond(correlationId, responseHeaderVersion(apiKey, apiVersion), (w) =>
      codec.encodeResponse(w, response, apiVersion),
    );
  };
}

function respond(correlationId: number, headerVersion: number, encodeBody: (w: Writer) => void): Buffer[] {
  const w = new Writer(256);
  const size = w.reserve(4);
  encodeResponseHeader(w, { correlationId }, headerVersion);
  encodeBody(w);
  size.buffer.writeInt32BE(w.length - 4, size.offset);
  return w.chunks();
}
