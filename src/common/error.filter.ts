import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from './error-response';

/** Every error leaves the service in one shape; see toErrorBody. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = toErrorBody(error, request.url.split('?')[0], String(request.id));
    // Only the unexpected needs a stack; an expected 5xx (503 while the database is away) is a warning.
    if (body.code === 'INTERNAL_ERROR') {
      this.logger.error(`${request.method} ${body.path} failed`, (error as Error)?.stack ?? String(error));
    } else if (body.statusCode >= 500) {
      this.logger.warn(`${request.method} ${body.path}: ${body.code}: ${body.message}`);
    }
    if (body.statusCode === 401) void reply.header('www-authenticate', 'Bearer');
    void reply.status(body.statusCode).send(body);
  }
}
