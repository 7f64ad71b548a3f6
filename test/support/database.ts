import { Client } from 'pg';

export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Tests wipe what they touch: never let them near a database that is not obviously a test one. */
export function assertTestDatabase(url: string): void {
  const name = new URL(url).pathname.replace(/^\//, '');
  if (!name.includes('test')) {
    throw new Error(`Refusing to run tests against database "${name}": its name must contain "test"`);
  }
}

export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function sql<T extends Record<string, unknown> = Record<string, unknown>>(text: string, values: unknown[] = []) {
  return withClient(async (client) => (await client.query<T>(text, values)).rows);
}

/** A user's outbox rows, oldest first. */
export function outboxOf(userId: string) {
  return sql<{ event_type: string; payload: any; published_at: Date | null }>(
    'SELECT event_type, payload, published_at FROM outbox WHERE aggregate_id = $1 ORDER BY id',
    [userId],
  );
}

/** How many outbox rows of these users are not published yet. */
export async function pendingOf(userIds: string[]): Promise<number> {
  const [row] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = ANY($1) AND published_at IS NULL', [
    userIds,
  ]);
  return row.n;
}
