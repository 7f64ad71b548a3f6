import { randomUUID } from 'node:crypto';
import { OutboxRelay } from '../src/messaging/outbox-relay';
import { call, RunningApp, startApp, testConfig } from './support/app';
import { sql } from './support/database';

describe('outbox retention', () => {
  let api: RunningApp;
  beforeAll(async () => {
    api = await startApp(testConfig({ OUTBOX_RETENTION_HOURS: '72' })); // no KAFKA_BROKERS: the relay is off
  });
  afterAll(() => api.close());

  async function row(createdHoursAgo: number, publishedHoursAgo: number | null): Promise<string> {
    const eventId = randomUUID();
    const userId = randomUUID();
    const payload = { eventId, eventType: 'user.updated', timestamp: new Date().toISOString(), userId, data: { changes: {} } };
    await sql(
      `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at, published_at)
       VALUES ($1, 'user', $2, 'user.updated', $3, now() - make_interval(hours => $4),
               CASE WHEN $5::int IS NULL THEN NULL ELSE now() - make_interval(hours => $5::int) END)`,
      [eventId, userId, payload, createdHoursAgo, publishedHoursAgo],
    );
    return eventId;
  }

  it('deletes published rows older than OUTBOX_RETENTION_HOURS, in batches, and nothing else', async () => {
    const expired = await Promise.all([1, 2, 3, 4, 5].map(() => row(100, 73)));
    const recent = await row(100, 71);
    const unpublished = await row(200, null);
    const left = () =>
      sql<{ event_id: string }>('SELECT event_id FROM outbox WHERE event_id = ANY($1)', [[...expired, recent, unpublished]]);
    expect(await left()).toHaveLength(7);

    const deleted = await api.app.get(OutboxRelay).deleteExpired(2);
    expect(deleted).toBeGreaterThanOrEqual(5);
    expect((await left()).map((r) => r.event_id).sort()).toEqual([recent, unpublished].sort());

    const health = await call(api.url, 'GET', '/health');
    expect(health.body.kafka).toEqual({ status: 'disabled', broker: null, consumer: 'disabled' });
    expect(health.body.outbox.pending).toBeGreaterThanOrEqual(1);
    await sql('DELETE FROM outbox WHERE event_id = ANY($1)', [[recent, unpublished]]);
  });
});
