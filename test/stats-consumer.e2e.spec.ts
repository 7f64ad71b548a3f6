import { randomUUID } from 'node:crypto';
import { Kafka, Producer } from 'kafkajs';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { sql } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { CONSUMED_TOPICS } from '../src/users/usage-events/consumed-event';
import { kafkaEnv, readTopic, sendEvents, testKafka, testProducer, waitForCommitted } from './support/kafka';
import { waitFor } from './support/wait';

/** The service consuming interview, candidate and media events from a real (mock) Kafka broker. */
const GROUP = 'stats-consumer-e2e';

describe('stats consumer over Kafka', () => {
  let broker: KafkaBroker;
  let api: RunningApp;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    broker = await startKafkaBroker();
    kafka = testKafka(broker);
    producer = await testProducer(kafka);
    for (const topic of CONSUMED_TOPICS) await broker.createTopic(topic, 4);
    api = await startApp(testConfig(kafkaEnv(broker, GROUP)));
  });
  afterAll(async () => {
    await producer?.disconnect();
    await api?.close();
    await broker?.stop();
  });

  const internal = { 'x-internal-token': INTERNAL_TOKEN };
  const newUserId = async () => (await createUser(api.url)).id;
  const stats = async (id: string) => (await call(api.url, 'GET', `/api/v1/users/${id}/stats`, { headers: internal })).body;
  const event = (eventType: string, userId: string, data: Record<string, unknown>, eventId: string = randomUUID()) => ({
    eventId,
    eventType,
    timestamp: new Date().toISOString(),
    userId,
    data,
  });
  /** Everything sent so far is handled (topics not yet created count as empty). */
  const drain = () => waitForCommitted(kafka, GROUP, CONSUMED_TOPICS);

  it('reports the consumer in /health', async () => {
    const health = await waitFor(
      async () => {
        const res = await call(api.url, 'GET', '/health');
        return res.body.kafka.consumer === 'running' ? res.body : null;
      },
      20_000,
      'consumer running',
    );
    expect(health.kafka).toMatchObject({ broker: expect.any(String), consumer: 'running' });
  });

  it('counts each event type once when every event is delivered twice', async () => {
    const userId = await newUserId();
    const created = [1, 2, 3].map((i) => event('interview.created', userId, { interviewId: `i${i}` }));
    const others = [
      event('interview.completed', userId, { interviewId: 'i1' }),
      event('interview.deleted', userId, { interviewId: 'i2' }),
      event('candidate.added', userId, { interviewId: 'i3', candidateId: 'c1' }),
      event('candidate.added', userId, { interviewId: 'i3', candidateId: 'c2' }),
      event('media.uploaded', userId, { fileId: 'f1', fileSize: 3000 }),
      event('media.uploaded', userId, { fileId: 'f2', fileSize: 1000 }),
    ];
    const deleted = event('media.deleted', userId, { fileId: 'f1', fileSize: 3000 });
    // In steps: topics are consumed independently, and closing before creating would clamp at zero.
    await sendEvents(producer, [...created, ...created]);
    await drain();
    await sendEvents(producer, [...others, ...others]);
    await drain();
    await sendEvents(producer, [deleted, deleted]);
    await drain();
    const events = [...created, ...others, deleted];

    expect(await stats(userId)).toEqual({
      interviewsCreated: 3,
      interviewsActive: 1,
      candidatesTotal: 2,
      storageUsed: 1000,
      storageUsedFormatted: '1000 B',
    });
    const processed = await sql('SELECT count(*) AS n FROM processed_events WHERE event_id = ANY($1) AND service_name = $2', [
      events.map((e) => e.eventId),
      'user-service',
    ]);
    expect(Number(processed[0].n)).toBe(events.length);
  });

  it('clamps counters at zero when closing and deleting events come first', async () => {
    const userId = await newUserId();
    await sendEvents(producer, [
      event('interview.completed', userId, { interviewId: 'never-created' }),
      event('interview.deleted', userId, { interviewId: 'never-created' }),
      event('media.deleted', userId, { fileId: 'f', fileSize: 500 }),
    ]);
    await drain();
    expect(await stats(userId)).toMatchObject({ interviewsCreated: 0, interviewsActive: 0, storageUsed: 0 });
    await sendEvents(producer, [event('media.uploaded', userId, { fileId: 'f', fileSize: 100 })]);
    await drain();
    await sendEvents(producer, [event('media.deleted', userId, { fileId: 'f', fileSize: 500 })]);
    await drain();
    expect(await stats(userId)).toMatchObject({ storageUsed: 0, storageUsedFormatted: '0 B' });
  });

  it('records quota threshold events in the outbox in the same transaction', async () => {
    const userId = await newUserId();
    await sendEvents(
      producer,
      Array.from({ length: 8 }, (_, i) => event('interview.created', userId, { interviewId: `t${i}` })),
    );
    await drain();
    const outbox = await sql<{ payload: any }>(
      `SELECT payload FROM outbox WHERE aggregate_id = $1 AND event_type = 'user.quota_threshold_reached'`,
      [userId],
    );
    expect(outbox.map((row) => row.payload.data)).toEqual([{ resource: 'interviews', threshold: 80, used: 8, limit: 10 }]);
  });

  it('sends poison messages to user-service.dlq with the reason and goes on with the next good one', async () => {
    const userId = await newUserId();
    const deletedId = await newUserId();
    const token = await tokenFor('admin', { admin: true });
    expect((await call(api.url, 'DELETE', `/api/v1/users/${deletedId}`, { token })).status).toBe(200);
    const marker = randomUUID();
    const unknownUser = randomUUID();
    const poison = [
      { value: `not json {${marker}`, reason: 'unparseable' },
      {
        value: JSON.stringify({ ...event('interview.created', userId, { interviewId: 'x' }), data: undefined, marker }),
        reason: 'invalid',
      },
      {
        value: JSON.stringify({ ...event('interview.created', userId, { interviewId: 'x' }), eventId: undefined, marker }),
        reason: 'invalid',
      },
      { value: JSON.stringify({ ...event('interview.created', unknownUser, { interviewId: 'x' }), marker }), reason: 'unknown_user' },
      { value: JSON.stringify({ ...event('interview.created', deletedId, { interviewId: 'x' }), marker }), reason: 'unknown_user' },
    ];
    const good = event('interview.created', userId, { interviewId: 'after-poison' });
    await producer.send({
      topic: 'interview.created',
      acks: -1,
      messages: [
        ...poison.map((p) => ({
          key: userId,
          value: p.value,
          headers: { traceparent: `00-${marker.replace(/-/g, '')}-0000000000000001-01` },
        })),
        { key: userId, value: JSON.stringify(good) },
      ],
    });
    await waitFor(async () => (await stats(userId)).interviewsCreated === 1, 30_000, 'the good event after the poison');

    const dead = (
      await readTopic(kafka, 'user-service.dlq', (messages) => messages.filter((m) => m.value?.includes(marker)).length >= poison.length)
    ).filter((m) => m.value?.includes(marker));
    expect(dead.map((m) => m.value)).toEqual(poison.map((p) => p.value));
    expect(dead.map((m) => m.headers.dlq_reason)).toEqual(poison.map((p) => p.reason));
    for (const message of dead) {
      expect(message.key).toBe(userId);
      expect(message.headers).toMatchObject({
        dlq_source_topic: 'interview.created',
        dlq_source_partition: expect.stringMatching(/^[0-3]$/),
        dlq_source_offset: expect.stringMatching(/^\d+$/),
        dlq_failed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        traceparent: expect.stringContaining(marker.replace(/-/g, '')),
      });
    }
    expect(dead[0].headers.dlq_error).toMatch(/^not JSON/);
    expect(dead[1].headers.dlq_error).toBe('data must be an object');
    expect(dead[2].headers.dlq_error).toBe('eventId must be a string of 1 to 255 characters');
    expect(dead[3].headers.dlq_error).toBe(`no live user ${unknownUser}`);
    expect(Number(dead[1].headers.dlq_source_offset)).toBe(Number(dead[0].headers.dlq_source_offset) + 1);
  });

  it('dead-letters an event PostgreSQL refuses and applies the rest of its batch', async () => {
    const userId = await newUserId();
    // 1 MiB below bigint's maximum: a 2^53-1 byte file overflows the total, a 1000 byte one does not.
    await sql('UPDATE users SET storage_used = 9223372036853727231 WHERE id = $1', [userId]);
    const overflowing = event('media.uploaded', userId, { fileId: 'huge', fileSize: Number.MAX_SAFE_INTEGER });
    const fitting = event('media.uploaded', userId, { fileId: 'small', fileSize: 1000 });
    await producer.send({
      topic: 'media.uploaded',
      acks: -1,
      messages: [overflowing, fitting].map((e) => ({ key: userId, value: JSON.stringify(e) })),
    });
    // Read as text: these totals are past a JavaScript number's precision.
    const storage = async () => (await sql<{ s: string }>('SELECT storage_used::text AS s FROM users WHERE id = $1', [userId]))[0].s;
    await waitFor(async () => (await storage()) === '9223372036853728231', 30_000, 'the fitting event');

    const [dead] = await readTopic(kafka, 'user-service.dlq', (messages) =>
      messages.some((m) => m.value?.includes(overflowing.eventId)),
    ).then((messages) => messages.filter((m) => m.value?.includes(overflowing.eventId)));
    expect(dead.headers).toMatchObject({ dlq_reason: 'rejected_by_database', dlq_source_topic: 'media.uploaded' });
    expect(dead.headers.dlq_error).toContain('out of range');
    // The partition goes on: a later event is applied too.
    await sendEvents(producer, [event('media.deleted', userId, { fileId: 'small', fileSize: 1000 })]);
    await waitFor(async () => (await storage()) === '9223372036853727231', 30_000, 'the event after');
  });
});
