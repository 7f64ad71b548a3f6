import multipart from '@fastify/multipart';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { LogController } from 'fastify';
import { Logger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { serveOpenApi } from './common/openapi';
import { securityHeaders } from './common/security-headers';
import { AppConfig } from './config/config';
import { EmbeddedDatabase } from './config/database';
import { createLogger } from './observability/logger';
import { Metrics } from './observability/metrics';

export interface AppOptions {
  /** Where log lines go (stdout by default); tests pass a stream to read them. */
  logDestination?: DestinationStream;
}
import { AVATAR_MAX_BYTES } from './users/avatar-upload';

/** Builds the service (not listening yet); main.ts and the e2e tests both start it this way. */
export async function createApp(config: AppConfig, options: AppOptions = {}): Promise<NestFastifyApplication> {
  const logger = createLogger(config, options.logDestination);
  if (config.auth.usingDevSecret) {
    logger.warn(
      'AUTH_JWT_SECRET is not set: using the built-in development secret. Anyone can mint tokens for it; ' +
        'never run like this outside a developer machine (NODE_ENV=production refuses to).',
    );
  }
  const embedded = config.databaseUrl ? null : await EmbeddedDatabase.open(config.dataDir);
  if (embedded) logger.info(`DATABASE_URL is not set: using the embedded PostgreSQL (PGlite) in ${config.dataDir}`);

  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    genReqId: traceIdOf,
    // request.ip (the rate limiter's key for callers without a token, and the logs' clientIp) comes from it.
    trustProxy: config.trustProxy,
    loggerInstance: logger,
    // Per-request lines cost throughput; the onResponse hook below logs slow requests only.
    logController: new LogController({ requestIdLogLabel: 'traceId', disableRequestLogging: true }),
  });
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, embedded, logger), adapter, {
      bufferLogs: true,
    });
  } catch (error) {
    await embedded?.close();
    throw error;
  }
  // Multipart bodies are streamed by the handler (avatar uploads) with their own limits, not bodyLimit.
  await app.register(multipart, { limits: { fileSize: AVATAR_MAX_BYTES }, throwFileSizeLimit: false });
  app.useLogger(app.get(Logger));
  allowCors(app, config);
  observe(app, config, logger.isLevelEnabled('debug'));
  serveOpenApi(app);
  return app;
}

function allowCors(app: NestFastifyApplication, config: AppConfig): void {
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'X-Request-Id', 'traceparent'],
      exposedHeaders: ['ETag', 'Location', 'X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
      maxAge: 600,
    });
  }
}

/**
 * Fastify hooks rather than Nest middleware or interceptors: they see every response (404s, guard
 * rejections) and cost least.
 */
function observe(app: NestFastifyApplication, config: AppConfig, logEveryRequest: boolean): void {
  const fastify = app.getHttpAdapter().getInstance();
  // METRICS_ENABLED=false: no per-request metrics work (the bench measures its cost); /metrics still answers.
  const metrics = app.get(Metrics);
  const headers = securityHeaders();
  // Once closing, a response also closes its keep-alive connection: otherwise clients that got their
  // answer during shutdown would hold the server open until the keep-alive timeout.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(headers).header('x-request-id', request.id);
    // With tracing on (observability/tracing.ts), the request's span is named by its route template.
    const route = request.routeOptions.url;
    if (route) trace.getActiveSpan()?.updateName(`${request.method} ${route}`).setAttribute('http.route', route);
    done();
  });
  fastify.addHook('onSend', (_request, reply, _payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const ms = reply.elapsedTime;
    if (metrics.timing) metrics.observeRequest(request.method, route, reply.statusCode, ms / 1000);
    // Failures are logged by the ErrorFilter; here only slow requests (and every request at debug).
    if (ms >= config.slowRequestMs || logEveryRequest) {
      const line = {
        method: request.method,
        route: route ?? 'unmatched',
        statusCode: reply.statusCode,
        durationMs: Math.round(ms),
        clientIp: request.ip,
      };
      if (ms >= config.slowRequestMs) request.log.warn(line, 'Slow request');
      else request.log.debug(line, 'Request completed');
    }
    done();
  });
}

/**
 * The trace id: with tracing on, the id of the request's trace (the traceparent's, or a new one), so that
 * logs, error bodies and the exported spans agree; otherwise from a W3C traceparent, else X-Request-Id,
 * else a new one.
 */
function traceIdOf(request: IncomingMessage): string {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) return span.traceId;
  const traceparent = request.headers.traceparent;
  const match = typeof traceparent === 'string' && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  if (match) return match[1];
  const requestId = request.headers['x-request-id'];
  if (typeof requestId === 'string' && /^[\w.:-]{1,128}$/.test(requestId)) return requestId;
  return randomUUID().replace(/-/g, '');
}
