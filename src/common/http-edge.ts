import { maxHeaderSize, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from './domain-error';
import { ErrorBody, toErrorBody } from './error-response';
import { newTraceId, traceIdOf } from './trace-id';

/**
 * What Node's HTTP server and Fastify answer before a request reaches a route, and so before Nest's ErrorFilter
 * can: malformed HTTP, headers or URLs too large, header timeouts, unknown expectations, URLs the router refuses.
 * Each gets the same error body (toErrorBody), the security headers and X-Request-Id.
 */
export class HttpEdge {
  constructor(private readonly headers: Record<string, string>) {}

  /** Fastify's `frameworkErrors`: the router refused the URL (bad percent-encoding, a parameter too long). */
  readonly routingFailed = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const body = toErrorBody(routingError(error), pathOf(request.url), String(request.id));
    if (body.code === 'INTERNAL_ERROR') request.log.error({ err: error, method: request.method, path: body.path }, 'Request failed');
    void reply.headers(this.headers).header('x-request-id', body.traceId).code(body.statusCode).send(body);
  };

  /**
   * Fastify's `clientErrorHandler`, on Node's 'clientError': the bytes are not HTTP we can parse, or did not come in
   * time. There is no request to answer, only the socket: written by hand, then closed (as Node does).
   */
  readonly clientFailed = (error: ConnectionError, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const inFlight = (socket as { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      // Node's parser errors carry the bytes it failed on (a Buffer, whatever Fastify's types say).
      const packet: unknown = error.rawPacket;
      const received = Buffer.isBuffer(packet) ? packet : undefined;
      const body = toErrorBody(clientError(error.code, received), pathOf(inFlight?.req.url ?? requestTarget(received)), newTraceId());
      const { text, headers } = this.lastResponse(body);
      const head = Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(`HTTP/1.1 ${body.statusCode} ${body.error}\r\n${head}\r\n${text}`);
    }
    socket.destroy();
  };

  /** Node's 'checkExpectation': an Expect other than 100-continue (without a listener Node answers a bare 417). */
  readonly expectationFailed = (request: IncomingMessage, response: ServerResponse): void => {
    const error = new DomainError('EXPECTATION_FAILED', 'Only "Expect: 100-continue" is supported');
    const body = toErrorBody(error, pathOf(request.url ?? '/'), traceIdOf(request));
    const { text, headers } = this.lastResponse(body);
    response.writeHead(body.statusCode, headers).end(text);
  };

  /** The body as JSON and the headers of a response after which the connection closes. */
  private lastResponse(body: ErrorBody): { text: string; headers: Record<string, string> } {
    const text = JSON.stringify(body);
    return {
      text,
      headers: {
        ...this.headers,
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(text)),
        'x-request-id': body.traceId,
        connection: 'close',
      },
    };
  }
}

/** Raised by the onRequest hook (app.ts) instead of Node's check, which answers a bare 400. */
export class MissingHost extends DomainError {
  constructor() {
    super('BAD_REQUEST', 'An HTTP/1.1 request needs a Host header');
  }
}

/**
 * 405 for a path that has routes, but not for this method (Fastify answers 404 for both), with the methods it
 * has; else 404 (also when a route of this method passed the request on: no such file under /docs). Only
 * unmatched requests pay for the lookups.
 */
export function routeNotFound(request: FastifyRequest): { error: DomainError; allow?: string } {
  const allowed = METHODS.filter((method) => request.server.findRoute({ method, url: request.url }) !== null);
  if (allowed.length === 0 || allowed.includes(request.method)) {
    return { error: new DomainError('NOT_FOUND', `Cannot ${request.method} ${pathOf(request.url)}`) };
  }
  const allow = allowed.join(', ');
  return { error: new DomainError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allow}`), allow };
}

/** OPTIONS is left out: with CORS on, a catch-all OPTIONS route matches every path. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

function routingError(error: FastifyError): unknown {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return new DomainError('URI_TOO_LONG', 'A path segment is too long');
  if (error.code === 'FST_ERR_BAD_URL') return new DomainError('BAD_REQUEST', 'The path is not a valid URL (malformed percent-encoding)');
  return error;
}

function clientError(code: string, received: Buffer | undefined): DomainError {
  const limit = `${maxHeaderSize / 1024} KB`;
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new DomainError('REQUEST_TIMEOUT', 'The request headers did not arrive in time');
    case 'HPE_HEADER_OVERFLOW':
      return requestLineTooLong(received)
        ? new DomainError('URI_TOO_LONG', `The URL is too long: the request line and headers may have at most ${limit}`)
        : new DomainError('REQUEST_HEADER_FIELDS_TOO_LARGE', `The request headers are over ${limit}`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new DomainError('PAYLOAD_TOO_LARGE', 'The chunk extensions are too large');
    default:
      return new DomainError('BAD_REQUEST', 'Malformed HTTP request');
  }
}

/**
 * Node counts the request line towards the header limit. When the bytes that overflowed it start a request whose
 * line does not end within 8000 octets (what RFC 9112 asks servers to support), the URL is what is too long.
 */
function requestLineTooLong(packet: Buffer | undefined): boolean {
  if (!packet || !/^[A-Z]+ /.test(packet.toString('latin1', 0, 16))) return false;
  const end = packet.indexOf('\r\n');
  return end === -1 || end > 8000;
}

/** The path of "METHOD /path?query HTTP/1.1" at the start of the bytes received, if they start so. */
function requestTarget(packet: Buffer | undefined): string {
  return /^[A-Z]+ (\/\S*)/.exec(packet?.toString('latin1', 0, 2048) ?? '')?.[1] ?? '/';
}

function pathOf(url: string): string {
  return url.split('?')[0];
}
