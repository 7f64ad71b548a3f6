import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';

/**
 * The pg pool under TypeORM's DataSource (PostgreSQL, or the embedded PGlite through its pg adapter), for
 * plain SQL: named (prepared) statements and transactions on one pooled connection. TypeORM opens, sizes
 * and closes it; this is the one place that reaches into its driver for it.
 */
@Injectable()
export class PgPool {
  readonly pool: Pool;

  constructor(dataSource: DataSource) {
    this.pool = (dataSource.driver as unknown as { master: Pool }).master;
  }

  /** BEGIN, `work`, COMMIT on one connection; ROLLBACK when anything throws. */
  async transaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      // A connection that cannot even roll back is broken: the pool drops it instead of lending it again.
      const broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: Error) => rollbackError,
      );
      client.release(broken);
      throw error;
    }
  }
}
