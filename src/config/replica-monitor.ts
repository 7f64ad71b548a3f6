import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { ReplicaConfig } from './database-config';

export type ReplicaState = 'connected' | 'lagging' | 'disconnected';

const CHECK_TIMEOUT_MS = 2000;

/**
 * How far the replica is behind, measured on the replica itself: the age of the last transaction it
 * replayed, while it has received WAL it has not replayed yet. A replica that has replayed all it
 * received from a streaming connection is not behind, however long ago the primary last wrote (an idle
 * primary sends nothing, so the age alone would grow forever). One without a WAL receiver (replication
 * broken) is as far behind as its last replayed transaction is old. Not a standby at all: no lag.
 */
const LAG_SQL = `
  SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000
  END::float8 AS lag_ms`;

/** Measures the replica's lag on a timer and says whether queries may read from it now. */
export class ReplicaMonitor {
  /** null until the first check. */
  private state: ReplicaState | null = null;
  private lag: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly logger = new Logger(ReplicaMonitor.name);

  constructor(
    private readonly replica: Pool,
    private readonly config: ReplicaConfig,
  ) {}

  /** The first measurement is awaited (at most CHECK_TIMEOUT_MS), so reads start where they belong. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.config.checkIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get usable(): boolean {
    return this.state === 'connected';
  }

  status(): { status: ReplicaState; lagMs: number | null } {
    return { status: this.state ?? 'disconnected', lagMs: this.lag === null ? null : Math.round(this.lag) };
  }

  /** A read found the replica unreachable: stop using it now rather than at the next check. */
  lost(error: Error): void {
    this.lag = null;
    this.enter('disconnected', error.message);
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const { rows } = await withTimeout(this.replica.query<{ lag_ms: number | null }>(LAG_SQL));
      // The replayed commit's time is the primary's clock: a replica's clock ahead of it must not make lag negative.
      const lag = rows[0].lag_ms === null ? null : Math.max(0, rows[0].lag_ms);
      this.lag = lag;
      // No transaction replayed since the replica started and WAL still to replay: unknown, so not trusted.
      const behind = lag === null || lag > this.config.maxLagMs;
      this.enter(behind ? 'lagging' : 'connected', behind ? `${lag === null ? 'unknown' : Math.round(lag)} ms behind` : '');
    } catch (error) {
      this.lag = null;
      this.enter('disconnected', (error as Error).message);
    } finally {
      this.checking = false;
    }
  }

  private enter(state: ReplicaState, why: string): void {
    if (state === this.state) return;
    const was = this.state;
    this.state = state;
    if (state === 'connected')
      this.logger.log(was === null ? 'Queries read from the replica' : `Queries read from the replica again (it was ${was})`);
    else this.logger.warn(`Queries read from the primary: the replica is ${state} (${why}; max ${this.config.maxLagMs} ms)`);
  }
}

function withTimeout<T>(query: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the replica did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
}
