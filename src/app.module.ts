import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthGuard } from './common/auth.guard';
import { ErrorFilter } from './common/error.filter';
import { TokenVerifier } from './common/token-verifier';
import { BodyValidationPipe } from './common/validation';
import { AppConfig } from './config/config';
import { dataSourceOptions, EmbeddedDatabase } from './config/database';
import { HealthController } from './observability/health.controller';
import { StorageModule } from './storage/storage.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AppModule {
  /** `embedded` is the open PGlite database when the config has no DATABASE_URL. */
  static forRoot(config: AppConfig, embedded: EmbeddedDatabase | null): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(config, embedded)),
        CqrsModule.forRoot(),
        StorageModule.forRoot(config),
        UsersModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: EmbeddedDatabase, useValue: embedded },
        TokenVerifier,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_PIPE, useClass: BodyValidationPipe },
        { provide: APP_FILTER, useClass: ErrorFilter },
      ],
      exports: [AppConfig, EmbeddedDatabase, TokenVerifier],
    };
  }
}
