import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { EmbeddedDatabase } from '../config/database';

const CHANNEL = 'outbox';
const RECONNECT_MAX_MS = 5000;

/**
 * Calls `wake` whenever outbox rows are committed (the trigger NOTIFYs channel "outbox").
 * On PostgreSQL it LISTENs on a connection of its own, outside the TypeORM pool, because a pooled
 * connection is handed to other queries and LISTEN lasts for the session; it reconnects if that
 * connection drops. On the embedded PGlite it uses PGlite's own listen(): its single connection
 * sees its own notifications.
 */
export class OutboxListener {
  private client: Client | null = null;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly logger = new Logger(OutboxListener.name);

  constructor(
    private readonly databaseUrl: string | null,
    private readonly embedded: EmbeddedDatabase | null,
    private readonly wake: () => void,
  ) {}

  async start(): Promise<void> {
    if (this.embedded) this.unlisten = await this.embedded.pglite.listen(CHANNEL, () => this.wake());
    else await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.unlisten?.();
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.databaseUrl!,
      application_name: 'user-service-outbox-listener',
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    let gone = false;
    const lost = (error?: Error) => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = null;
      void client.end().catch(() => undefined);
      this.reconnectLater(error);
    };
    client.on('notification', () => this.wake());
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      lost(error as Error);
      return;
    }
    if (this.closed) return void client.end().catch(() => undefined);
    this.client = client;
    if (this.failures > 0) this.logger.log('Listening for outbox notifications again');
    this.failures = 0;
    this.wake(); // whatever was committed while nobody listened
  }

  private reconnectLater(error?: Error): void {
    if (this.closed) return;
    if (this.failures === 0) {
      this.logger.warn(`Outbox LISTEN connection lost (${error?.message ?? 'closed'}); polling until it is back`);
    }
    const delay = Math.min(100 * 2 ** this.failures, RECONNECT_MAX_MS);
    this.failures++;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
