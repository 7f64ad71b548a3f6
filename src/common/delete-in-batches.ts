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
