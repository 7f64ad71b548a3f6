import type { FastifyBodyParser, FastifyInstance, FastifyRequest, onRouteHookHandler, preValidationHookHandler } from 'fastify';
import { DomainError } from './domain-error';

/** Route config (`@RouteConfig(MULTIPART)`) of the routes that read a multipart/form-data body themselves. */
export const MULTIPART = { multipart: true };

class UnsupportedMediaType extends DomainError {
  constructor(request: FastifyRequest, reason = '') {
    const wanted = takesMultipart(request.routeOptions.config) ? 'multipart/form-data' : 'JSON (Content-Type: application/json)';
    super('UNSUPPORTED_MEDIA_TYPE', `${reason}This endpoint takes ${wanted}`);
  }
}

/**
 * Which request bodies are read: JSON (application/json or any application/*+json, in UTF-8) everywhere, multipart
 * only on MULTIPART routes, anything else 415 before a byte of it is read. Fastify's text/plain parser and Nest's
 * JSON and urlencoded ones are not used (Nest's app is created with `bodyParser: false`). Call before
 * @fastify/multipart is registered; it adds the multipart parser.
 */
export function acceptRequestBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const parseUtf8Json: FastifyBodyParser<string> = (request, body, done) => {
    if (!isUtf8(request.headers['content-type'])) return done(new UnsupportedMediaType(request, 'JSON must be UTF-8. '), undefined);
    void parseJson(request, body, done);
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseUtf8Json);
  fastify.addContentTypeParser(/^application\/[\w.-]+\+json(;|$)/, { parseAs: 'string' }, parseUtf8Json);
  // Also a body without Content-Type. On an unknown route, the router's 404 or 405 comes first.
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    if (request.is404) return done(null, undefined);
    done(new UnsupportedMediaType(request), undefined);
  });
  fastify.addHook('onRoute', refuseMultipartUnlessAsked);
}

/** A multipart body is parsed lazily by its route; on any other route it would arrive as no body at all. */
const refuseMultipart: preValidationHookHandler = function (request, _reply, done) {
  if (request.isMultipart()) return done(new UnsupportedMediaType(request));
  done();
};

const refuseMultipartUnlessAsked: onRouteHookHandler = (route) => {
  const methods = ([] as string[]).concat(route.method);
  if (takesMultipart(route.config) || !methods.some((method) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method))) return;
  const existing = route.preValidation ?? [];
  route.preValidation = [...(Array.isArray(existing) ? existing : [existing]), refuseMultipart];
};

function takesMultipart(routeConfig: unknown): boolean {
  return (routeConfig as { multipart?: unknown } | undefined)?.multipart === true;
}

/** JSON is UTF-8 (RFC 8259); a body declared in another charset would be read wrongly, not converted. */
function isUtf8(contentType: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}
