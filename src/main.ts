// First: with tracing on, http, pg and kafkajs must be instrumented before anything loads them.
import { tracing } from './observability/tracing';
import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { createApp } from './app';
import { AppConfig, ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(); // .env was read by ./observability/tracing, imported first
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const logger = app.get(Logger);
  logger.log(`user-service listening on ${await app.getUrl()}`, 'Bootstrap');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(app, config, logger, signal));
  }
}

/**
 * Stops accepting connections, lets requests in flight finish, then closes the pools (Nest's
 * shutdown hooks run after the server has closed). Gives up after SHUTDOWN_TIMEOUT_MS.
 */
async function shutdown(app: NestFastifyApplication, config: AppConfig, logger: Logger, signal: string): Promise<void> {
  logger.log(`${signal} received: finishing requests in flight (up to ${config.shutdownTimeoutMs} ms)`, 'Shutdown');
  const deadline = setTimeout(() => {
    logger.error(`Shutdown did not finish within ${config.shutdownTimeoutMs} ms; exiting anyway`, undefined, 'Shutdown');
    exit(app, 1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  try {
    await app.close();
    await tracing?.shutdown(); // exports the spans still buffered
    logger.log('Shut down cleanly', 'Shutdown');
    exit(app, 0);
  } catch (error) {
    logger.error(`Shutdown failed: ${(error as Error).stack}`, undefined, 'Shutdown');
    exit(app, 1);
  }
}

/** Writes out buffered log lines before leaving. */
function exit(app: NestFastifyApplication, code: number): void {
  (app.getHttpAdapter().getInstance().log as unknown as PinoLogger).flush(() => process.exit(code));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
