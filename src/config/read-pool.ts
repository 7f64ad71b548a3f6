import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DatabaseError, Pool, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { AppConfig } from './config';
import { pgClientConfig } from './pg-connection';
import { PgPool } from './pg-pool';
import { ReplicaMonitor, ReplicaState } from './replica-monitor';

export interface ReplicaHealth {
  status: 'disabled' | ReplicaState;
  lagMs: number | null;
  maxLagMs: number | null;
  /** Whether queries read from the replica now (false: from the primary). */
  readsFromReplica: boolean;
  connections: number;
}

/** SQLSTATEs after which the same read may succeed on the primary: the replica is going away or conflicts with replay. */
const REPLICA_FAILURES = ['57P01', '57P02', '57P03', '53300', '40001'];

/**
 * Where queries read: the replica (DATABASE_READ_URL) while it is reachable and at most
 * DATABASE_READ_MAX_LAG_MS behind, otherwise the primary's pool. Readers (UserReader) query through it;
 * commands never do: they read and write on the primary, in their transaction.
 */
@Injectable()
export class ReadPool implements OnModuleInit, OnApplicationShutdown {
  private readonly replica: Pool | null = null;
  private readonly monitor: ReplicaMonitor | null = null;

  constructor(
    private readonly primary: PgPool,
    private readonly config: AppConfig,
  ) {
    const replica = config.database.replica;
    if (!replica) return;
    this.replica = new Pool({
      ...pgClientConfig(replica.connection, config.database.schema),
      application_name: 'user-service-reads',
      max: replica.poolSize,
      // Also bounds the wait for a free connection: then the read goes to the primary.
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    // An idle connection the replica dropped: the next read or check finds out, and the pool replaces it.
    this.replica.on('error', () => undefined);
    this.monitor = new ReplicaMonitor(this.replica, replica);
  }

  async onModuleInit(): Promise<void> {
    await this.monitor?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.monitor?.stop();
    await this.replica?.end();
  }

  /** The pool to read from now; a reader that needs more than query() may use it. */
  get pool(): Pool {
    return this.replica && this.monitor!.usable ? this.replica : this.primary.pool;
  }

  /** A read on the replica that fails because the replica is unreachable or stopping is made again on the primary. */
  async query<R extends QueryResultRow = QueryResultRow>(query: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    const pool = this.pool;
    if (pool !== this.replica) return pool.query<R>(query, values);
    try {
      return await pool.query<R>(query, values);
    } catch (error) {
      if (!isReplicaFailure(error)) throw error;
      this.monitor!.lost(error as Error);
      return this.primary.pool.query<R>(query, values);
    }
  }

  status(): ReplicaHealth {
    if (!this.replica) return { status: 'disabled', lagMs: null, maxLagMs: null, readsFromReplica: false, connections: 0 };
    return {
      ...this.monitor!.status(),
      maxLagMs: this.config.database.replica!.maxLagMs,
      readsFromReplica: this.monitor!.usable,
      connections: this.replica.totalCount,
    };
  }
}

/** Anything but an answer of the server (a network error, a timeout), a lost connection (class 08), or REPLICA_FAILURES. */
function isReplicaFailure(error: unknown): boolean {
  if (!(error instanceof DatabaseError) || error.code === undefined) return true;
  return error.code.startsWith('08') || REPLICA_FAILURES.includes(error.code);
}
