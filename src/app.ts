import multipart from '@fastify/multipart';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import { AppConfig } from './config/config';
import { EmbeddedDatabase } from './config/database';
import { AVATAR_MAX_BYTES } from './users/avatar-upload';

/** Builds the service (not listening yet); main.ts and the e2e tests both start it this way. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const logger = new Logger('Bootstrap');
  if (config.auth.usingDevSecret) {
    logger.warn(
      'AUTH_JWT_SECRET is not set: using the built-in development secret. Anyone can mint tokens for it; ' +
        'never run like this outside a developer machine (NODE_ENV=production refuses to).',
    );
  }
  const embedded = config.databaseUrl ? null : await EmbeddedDatabase.open(config.dataDir);
  if (embedded) logger.log(`DATABASE_URL is not set: using the embedded PostgreSQL (PGlite) in ${config.dataDir}`);

  const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, genReqId: traceIdOf, trustProxy: true });
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, embedded), adapter, {
      logger: config.env === 'test' ? ['error', 'warn'] : undefined,
    });
  } catch (error) {
    await embedded?.close();
    throw error;
  }
  // Multipart bodies are streamed by the handler (avatar uploads) with their own limits, not bodyLimit.
  await app.register(multipart, { limits: { fileSize: AVATAR_MAX_BYTES }, throwFileSizeLimit: false });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.enableShutdownHooks();
  return app;
}

/** The trace id: from a W3C traceparent, else X-Request-Id, else a new one. */
function traceIdOf(request: IncomingMessage): string {
  const traceparent = request.headers.traceparent;
  const match = typeof traceparent === 'string' && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  if (match) return match[1];
  const requestId = request.headers['x-request-id'];
  if (typeof requestId === 'string' && /^[\w.:-]{1,128}$/.test(requestId)) return requestId;
  return randomUUID().replace(/-/g, '');
}
