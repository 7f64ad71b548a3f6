import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { EmbeddedDatabase } from '../config/database';
import { DatabaseConfig } from '../config/database-config';
import { pgClientConfig } from '../config/pg-connection';

const RECONNECT_MAX_MS = 5000;

/**
 * What the outbox trigger notifies: one channel per schema, as channels are shared by the whole database.
 * A plain identifier (DATABASE_SCHEMA is one): PGlite's unlisten() cannot undo a LISTEN on a quoted name.
 */
export function outboxChannel(schema: string): string {
  return `outbox_${schema}`;
}

/**
 * Calls `wake` whenever outbox rows are committed (the trigger NOTIFYs channel "outbox_<schema>").
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
  private readonly channel: string;

  constructor(
    private readonly database: DatabaseConfig,
    private readonly embedded: EmbeddedDatabase | null,
    private readonly wake: () => void,
  ) {
    this.channel = outboxChannel(database.schema);
  }

  async start(): Promise<void> {
    if (this.embedded) this.unlisten = await this.embedded.pglite.listen(this.channel, () => this.wake());
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
      ...pgClientConfig(this.database.connection!, this.database.schema),
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
      await client.query(`LISTEN ${this.channel}`);
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
