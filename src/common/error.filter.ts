import { ArgumentsHost, Catch, ExceptionFilter, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from './domain-error';
import { toErrorBody } from './error-response';
import { routeNotFound } from './http-edge';

/** Every error leaves the service in one shape; see toErrorBody. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // Nest's not-found handler: no route matched (a 404, or a 405 when the path has routes for other methods).
    if (request.is404 && error instanceof NotFoundException) {
      const notFound = routeNotFound(request);
      error = notFound.error;
      if (notFound.allow) void reply.header('allow', notFound.allow);
    }
    const body = toErrorBody(error, request.url.split('?')[0], String(request.id));
    // request.log carries the traceId. Only the unexpected needs a stack; an expected 5xx (503 while
    // the database is away) is a warning.
    if (body.code === 'INTERNAL_ERROR') {
      request.log.error({ err: error, method: request.method, path: body.path, clientIp: request.ip }, 'Request failed');
    } else if (body.statusCode >= 500) {
      const cause = error instanceof DomainError ? error.reason : undefined;
      request.log.warn({ method: request.method, path: body.path, code: body.code, clientIp: request.ip, cause }, body.message);
    }
    if (body.statusCode === 401) void reply.header('www-authenticate', 'Bearer');
    void reply.status(body.statusCode).send(body);
  }
}
