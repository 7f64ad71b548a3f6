import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Repeats a DELETE whose last parameter is its batch size until it deletes fewer rows than that, so that
 * no one statement holds many locks. Returns how many rows went.
 */
export async function deleteInBatches(dataSource: DataSource, sql: string, params: unknown[], batchSize: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const [, count] = await dataSource.query(sql, [...params, batchSize]);
    deleted += count;
    if (count < batchSize) return deleted;
  }
}

/**
 * Runs a housekeeping delete now and every `everyMs` (not keeping the process alive), logging a failure as a
 * warning; the next run tries again. Returns what stops it.
 */
export function sweepPeriodically(name: string, logger: Logger, sweep: () => Promise<unknown>, everyMs: number): () => void {
  const run = () => void sweep().catch((e) => logger.warn(`${name}: ${e}`));
  run();
  const timer = setInterval(run, everyMs).unref();
  return () => clearInterval(timer);
}
