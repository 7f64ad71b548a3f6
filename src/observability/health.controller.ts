import { Controller, Get, Inject, Optional, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '../common/auth.guard';
import { AppConfig } from '../config/config';
import { EventConsumer } from '../messaging/event-consumer';

@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    @Optional() @Inject(EventConsumer) private readonly consumer: EventConsumer | null,
  ) {}

  @Get()
  async health() {
    const database = await this.databaseStatus();
    return {
      status: database.status === 'connected' ? 'ok' : 'error',
      timestamp: new Date().toISOString(),
      database,
      kafka: this.config.kafka.brokers.length
        ? { status: 'configured', broker: this.config.kafka.brokers.join(','), consumer: this.consumer?.status ?? 'stopped' }
        : {
            status: 'disabled',
            broker: null,
            consumer: 'disabled',
            note: 'KAFKA_BROKERS is not set: events wait in the outbox and no events are consumed',
          },
    };
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const database = await this.databaseStatus();
    if (database.status !== 'connected') throw new ServiceUnavailableException('Database is unreachable');
    return { status: 'ok' };
  }

  private async databaseStatus() {
    const embedded = !this.config.databaseUrl;
    try {
      await this.dataSource.query('SELECT 1');
      const pool = (this.dataSource.driver as unknown as { master: { totalCount?: number } }).master;
      return { status: 'connected', connections: pool.totalCount ?? 0, embedded };
    } catch {
      return { status: 'disconnected', connections: 0, embedded };
    }
  }
}
