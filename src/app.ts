import multipart from '@fastify/multipart';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { trace } from '@opentelemetry/api';
import { FastifyHttpOptions, LogController } from 'fastify';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { HttpEdge, MissingHost } from './common/http-edge';
import { serveOpenApi } from './common/openapi';
import { acceptRequestBodies } from './common/request-bodies';
import { securityHeaders } from './common/security-headers';
import { ShutdownState } from './common/shutdown-state';
import { traceIdOf } from './common/trace-id';
import { AppConfig } from './config/config';
import { EmbeddedDatabase } from './config/database';
import { createSchemaIfMissing } from './config/pg-connection';
import { createLogger, lazyChildLogger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { AVATAR_MAX_BYTES } from './users/avatar-upload';
import { installHotRoutes } from './users/hot-routes';

export interface AppOptions {
  /** Where log lines go (stdout by default); tests pass a stream to read them. */
  logDestination?: DestinationStream;
}

/** Builds the service (not listening yet); main.ts and the e2e tests both start it this way. */
export async function createApp(config: AppConfig, options: AppOptions = {}): Promise<NestFastifyApplication> {
  const logger = createLogger(config, options.logDestination);
  if (config.auth.usingDevSecret) {
    logger.warn(
      'AUTH_JWT_SECRET is not set: using the built-in development secret. Anyone can mint tokens for it; ' +
        'never run like this outside a developer machine (NODE_ENV=production refuses to).',
    );
  }
  const { connection, schema, runMigrations } = config.database;
  if (connection && runMigrations) await createSchemaIfMissing(connection, schema);
  const embedded = connection ? null : await EmbeddedDatabase.open(config.dataDir, schema);
  if (embedded) logger.info(`No database is configured: using the embedded PostgreSQL (PGlite) in ${config.dataDir}`);

  const headers = securityHeaders();
  const edge = new HttpEdge(headers);
  const serverOptions: FastifyHttpOptions<Server> & { skipMiddie: boolean } = {
    // No Nest middleware is applied (nestjs-pino's forRoutes is empty): @fastify/middie would only add a hook to
    // every request. Nest registers it after all if a middleware is ever applied.
    skipMiddie: true,
    bodyLimit: config.bodyLimitBytes,
    genReqId: traceIdOf,
    // request.ip (the rate limiter's key for callers without a token, and the logs' clientIp) comes from it.
    trustProxy: config.trustProxy,
    loggerInstance: logger,
    childLoggerFactory: lazyChildLogger,
    // Per-request lines cost throughput; the onResponse hook below logs slow requests only.
    logController: new LogController({ requestIdLogLabel: 'traceId', disableRequestLogging: true }),
    // A Keycloak id (GET /users/by-keycloak/:keycloakId) has up to 255 characters, each up to 3 when percent-encoded.
    routerOptions: { maxParamLength: 765 },
    frameworkErrors: edge.routingFailed,
    clientErrorHandler: edge.clientFailed,
    // The Host check is ours (the onRequest hook), so that its 400 has the error body.
    http: { requireHostHeader: false },
    // Fastify would answer requests routed while closing with its own 503; they are served (main.ts waits for them).
    return503OnClosing: false,
  };
  const adapter = new FastifyAdapter(serverOptions);
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, embedded, logger), adapter, {
      bufferLogs: true,
      bodyParser: false, // acceptRequestBodies
    });
  } catch (error) {
    await embedded?.close();
    throw error;
  }
  app.getHttpServer().on('checkExpectation', edge.expectationFailed);
  acceptRequestBodies(app.getHttpAdapter().getInstance());
  installHotRoutes(app);
  // Multipart bodies are streamed by the handler (avatar uploads) with their own limits, not bodyLimit.
  await app.register(multipart, { limits: { fileSize: AVATAR_MAX_BYTES }, throwFileSizeLimit: false });
  app.useLogger(app.get(Logger));
  allowCors(app, config);
  observe(app, config, headers, logger.isLevelEnabled('debug'));
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
function observe(app: NestFastifyApplication, config: AppConfig, headers: Record<string, string>, logEveryRequest: boolean): void {
  const fastify = app.getHttpAdapter().getInstance();
  // METRICS_ENABLED=false: no per-request metrics work (the bench measures its cost); /metrics still answers.
  const metrics = app.get(Metrics);
  // Once shutting down (draining, then closing), a response also closes its keep-alive connection: clients
  // reconnect through the load balancer to another instance, and none holds the server open until the
  // keep-alive timeout.
  const shutdown = app.get(ShutdownState);
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
    // RFC 9112 §3.2 (Node's own check is off, see requireHostHeader).
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') return done(new MissingHost());
    done();
  });
  fastify.addHook('onSend', (_request, reply, _payload, done) => {
    if (closing || shutdown.began) void reply.header('connection', 'close');
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
