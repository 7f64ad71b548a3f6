import { Controller, Get, Inject, Optional, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '../common/auth.guard';
import { AppConfig } from '../config/config';
import { OutboxRelay } from '../messaging/outbox-relay';
import { EventConsumer } from '../messaging/event-consumer';

@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly relay: OutboxRelay,
    @Optional() @Inject(EventConsumer) private readonly consumer: EventConsumer | null,
  ) {}

  @Get()
  async health() {
    const database = await this.databaseStatus();
    const events = await this.relay.status();
    return {
      status: database.status === 'connected' ? 'ok' : 'error',
      timestamp: new Date().toISOString(),
      database,
      kafka: { ...events.kafka, consumer: this.consumer?.status ?? 'disabled' },
      outbox: events.outbox,
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
