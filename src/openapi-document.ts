import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import pino from 'pino';
import { AppModule } from './app.module';
import { openApiDocument } from './common/openapi';
import { loadConfig } from './config/config';

/**
 * The OpenAPI document without a database: Nest's preview mode builds the module graph (all that
 * the document is made from) but instantiates no provider, so nothing connects anywhere.
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://unused@127.0.0.1:1/openapi_only' });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, null, pino({ enabled: false })),
    new FastifyAdapter(),
    { preview: true, logger: false },
  );
  try {
    return openApiDocument(app);
  } finally {
    await app.close();
  }
}
