import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AuthGuard } from './common/auth.guard';
import { ErrorFilter } from './common/error.filter';
import { RateLimitGuard } from './common/rate-limit.guard';
import { ShutdownState } from './common/shutdown-state';
import { TokenVerifier } from './common/token-verifier';
import { BodyValidationPipe } from './common/validation';
import { AppConfig } from './config/config';
import { dataSourceOptions, EmbeddedDatabase, openDataSource } from './config/database';
import { PgPool } from './config/pg-pool';
import { ReadPool } from './config/read-pool';
import { KafkaStatus } from './messaging/kafka-health';
import { MessagingModule } from './messaging/messaging.module';
import { KafkaHealth } from './observability/health-contributors';
import { ObservabilityModule } from './observability/observability.module';
import { StorageModule } from './storage/storage.module';
import { UsageEventsModule } from './users/usage-events/usage-events.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AppModule {
  /**
   * `embedded` is the open PGlite database when the config names no PostgreSQL; `logger` the pino
   * instance Fastify also logs with (its per-request child carries the traceId).
   */
  static forRoot(config: AppConfig, embedded: EmbeddedDatabase | null, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        // Nest's own logging goes through pino. No per-request middleware: its AsyncLocalStorage costs
        // ~8% of a GET on Node 20. Request-scoped lines use Fastify's request.log (bound to the traceId).
        LoggerModule.forRoot({ pinoHttp: { logger }, useExisting: true, forRoutes: [] }),
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(config, embedded),
          dataSourceFactory: (options) => openDataSource(options!, config, embedded),
        }),
        CqrsModule.forRoot(),
        ObservabilityModule,
        StorageModule.forRoot(config),
        UsersModule,
        MessagingModule,
        UsageEventsModule,
      ],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: EmbeddedDatabase, useValue: embedded },
        PgPool,
        ReadPool,
        ShutdownState,
        TokenVerifier,
        { provide: KafkaHealth, useClass: KafkaStatus },
        // Guards run in this order: the rate limit first, so that bad tokens are limited too. The enhancers are
        // providers of their own as well, for the routes that users/hot-routes.ts calls directly.
        ...(config.rateLimitPerMinute > 0 ? [RateLimitGuard, { provide: APP_GUARD, useExisting: RateLimitGuard }] : []),
        AuthGuard,
        { provide: APP_GUARD, useExisting: AuthGuard },
        BodyValidationPipe,
        { provide: APP_PIPE, useExisting: BodyValidationPipe },
        ErrorFilter,
        { provide: APP_FILTER, useExisting: ErrorFilter },
      ],
      exports: [AppConfig, EmbeddedDatabase, PgPool, ReadPool, ShutdownState, TokenVerifier, KafkaHealth],
    };
  }
}
