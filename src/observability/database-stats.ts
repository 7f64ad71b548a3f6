import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UserReader } from '../users/persistence/user.repository';
import { Metrics } from './metrics';

export interface OutboxBacklog {
  pending: number;
  oldestAgeSeconds: number;
}

const TIMEOUT_MS = 2000;

/** Figures read from the database when they are asked for (a scrape, /health), never on the request path. */
@Injectable()
export class DatabaseStats implements OnModuleInit {
  private readonly logger = new Logger(DatabaseStats.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserReader,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape(async () => {
      try {
        const [backlog, storage, statuses] = await Promise.all([
          this.outboxBacklog(),
          withTimeout(this.users.totalStorageUsed()),
          withTimeout(this.users.countByStatus()),
        ]);
        this.metrics.setOutboxBacklog(backlog.pending, backlog.oldestAgeSeconds);
        this.metrics.setStorageUsed(Number(storage));
        this.metrics.setUsersByStatus(statuses);
      } catch (error) {
        // The scrape still answers (process metrics matter most when the database is in trouble).
        this.logger.warn(`Database gauges not refreshed: ${(error as Error).message}`);
      }
    });
  }

  /**
   * Both subqueries walk the partial index on unpublished rows. Ids follow insertion order,
   * so the first pending id is (near enough) the oldest pending row.
   */
  async outboxBacklog(): Promise<OutboxBacklog> {
    const [row] = await withTimeout<Array<{ pending: string; age: number | null }>>(
      this.dataSource.query(
        `SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS pending,
                (SELECT extract(epoch FROM now() - created_at)::float8 FROM outbox
                  WHERE published_at IS NULL ORDER BY id LIMIT 1) AS age`,
      ),
    );
    return { pending: Number(row.pending), oldestAgeSeconds: Math.max(0, row.age ?? 0) };
  }
}

function withTimeout<T>(query: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
}
