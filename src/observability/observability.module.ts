import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { UsersModule } from '../users/users.module';
import { DatabaseStats } from './database-stats';
import { HealthController } from './health.controller';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  // Terminus would log every failed probe; readiness answers 503 instead, and the outage shows in metrics.
  imports: [TerminusModule.forRoot({ logger: false }), UsersModule],
  controllers: [HealthController, MetricsController],
  providers: [Metrics, DatabaseStats],
  exports: [Metrics],
})
export class ObservabilityModule {}
