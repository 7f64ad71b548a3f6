// First: with tracing on, http, pg and kafkajs must be instrumented before anything loads them.
import { tracing } from './observability/tracing';
import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { createApp } from './app';
import { ShutdownState } from './common/shutdown-state';
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
 * Reports not-ready and keeps serving for SHUTDOWN_DRAIN_MS, the time a load balancer (a Kubernetes
 * endpoint controller) needs to stop sending new requests here; then stops accepting connections, lets
 * requests in flight finish, and closes the pools (Nest's shutdown hooks run after the server has
 * closed). Gives up SHUTDOWN_TIMEOUT_MS after the drain.
 */
async function shutdown(app: NestFastifyApplication, config: AppConfig, logger: Logger, signal: string): Promise<void> {
  app.get(ShutdownState).began = true;
  const { shutdownDrainMs: drainMs, shutdownTimeoutMs: timeoutMs } = config;
  logger.log(
    `${signal} received: not ready, still serving for ${drainMs} ms, then finishing requests in flight (up to ${timeoutMs} ms)`,
    'Shutdown',
  );
  await new Promise((resolve) => setTimeout(resolve, drainMs));
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
