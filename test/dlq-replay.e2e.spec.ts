import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, Producer } from 'kafkajs';
import { replayDeadLetters } from '../src/messaging/dead-letter-replay';
import { CONSUMED_TOPICS } from '../src/users/usage-events/consumed-event';
import { DEAD_LETTER_TOPIC } from '../src/users/usage-events/dead-letter';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { kafkaEnv, readTopic, testKafka, testProducer, waitForCommitted } from './support/kafka';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';

/** npm run dlq:replay: dead letters go back to their topics and the real consumer applies them, once. */
const GROUP = 'dlq-replay-e2e';

describe('dead-letter replay', () => {
  let broker: KafkaBroker;
  let kafka: Kafka;
  let producer: Producer;
  let api: RunningApp;

  beforeAll(async () => {
    broker = await startKafkaBroker();
    kafka = testKafka(broker);
    producer = await testProducer(kafka);
    for (const topic of CONSUMED_TOPICS) await broker.createTopic(topic, 4);
    await broker.createTopic(DEAD_LETTER_TOPIC, 2);
    api = await startApp(testConfig(kafkaEnv(broker, GROUP)));
  });
  afterAll(async () => {
    await producer?.disconnect();
    await api?.close();
    await broker?.stop();
  });

  const internal = { 'x-internal-token': INTERNAL_TOKEN };
  const stats = async (id: string) => (await call(api.url, 'GET', `/api/v1/users/${id}/stats`, { headers: internal })).body;
  const drain = () => waitForCommitted(kafka, GROUP, CONSUMED_TOPICS);
  const ends = async (topic: string) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  };
  const event = (eventType: string, userId: string, data: Record<string, unknown>) => ({
    eventId: randomUUID(),
    eventType,
    timestamp: new Date().toISOString(),
    userId,
    data,
  });

  let userId: string;
  let letters: Array<ReturnType<typeof event>>;
  const traceparent = `00-${randomUUID().replace(/-/g, '')}-0000000000000001-01`;
  let beforeFailures: Date;

  it('dead-letters events for a user who is not (yet, again) live', async () => {
    beforeFailures = new Date();
    const user = await createUser(api.url);
    userId = user.id;
    expect((await call(api.url, 'DELETE', `/api/v1/users/${userId}`, { token: user.token })).status).toBe(200);
    letters = [
      event('interview.created', userId, { interviewId: 'iv-1' }),
      event('interview.created', userId, { interviewId: 'iv-2' }),
      event('media.uploaded', userId, { fileId: 'f-1', fileSize: 2048 }),
    ];
    for (const letter of letters) {
      await producer.send({
        topic: letter.eventType,
        acks: -1,
        messages: [{ key: userId, value: JSON.stringify(letter), headers: { traceparent } }],
      });
    }
    await producer.send({ topic: 'interview.created', acks: -1, messages: [{ key: 'x', value: 'not json {' }] });
    await drain();
    const dead = await readTopic(kafka, DEAD_LETTER_TOPIC, (messages) => messages.length >= 4);
    expect(dead.map((m) => m.headers.dlq_reason).sort()).toEqual(['unknown_user', 'unknown_user', 'unknown_user', 'unparseable']);

    const admin = await tokenFor('admin', { admin: true });
    expect((await call(api.url, 'POST', `/api/v1/users/${userId}/restore`, { token: admin })).status).toBe(200);
    expect(await stats(userId)).toMatchObject({ interviewsCreated: 0, storageUsed: 0 });
  });

  it('--dry-run reports what it would replay and publishes nothing', async () => {
    const before = await Promise.all(CONSUMED_TOPICS.map(ends));
    const report = await replayDeadLetters(kafka, DEAD_LETTER_TOPIC, { reason: 'unknown_user', dryRun: true });
    expect(report).toEqual({
      read: 4,
      matched: 3,
      replayed: 0,
      skipped: 0,
      bySourceAndReason: { 'interview.created': { unknown_user: 2 }, 'media.uploaded': { unknown_user: 1 } },
    });
    expect(await Promise.all(CONSUMED_TOPICS.map(ends))).toEqual(before);
    expect(await stats(userId)).toMatchObject({ interviewsCreated: 0, storageUsed: 0 });
  });

  it('filters by the time of failure', async () => {
    const future = new Date(Date.now() + 60_000);
    expect((await replayDeadLetters(kafka, DEAD_LETTER_TOPIC, { since: future, dryRun: true })).matched).toBe(0);
    expect((await replayDeadLetters(kafka, DEAD_LETTER_TOPIC, { until: beforeFailures, dryRun: true })).matched).toBe(0);
    const window = { since: beforeFailures, until: future, dryRun: true };
    expect((await replayDeadLetters(kafka, DEAD_LETTER_TOPIC, window)).matched).toBe(4);
  });

  it('re-publishes them with their original key, value and headers, and the consumer applies them exactly once', async () => {
    const deadEnd = await ends(DEAD_LETTER_TOPIC);
    const report = await replayDeadLetters(kafka, DEAD_LETTER_TOPIC, { reason: 'unknown_user' });
    expect(report).toMatchObject({ read: 4, matched: 3, replayed: 3 });
    await drain();
    expect(await stats(userId)).toMatchObject({ interviewsCreated: 2, interviewsActive: 2, storageUsed: 2048 });

    const ids = new Set(letters.map((l) => l.eventId));
    const ours = (m: { value: string | null }) => m.value?.startsWith('{') === true && ids.has(JSON.parse(m.value).eventId);
    const republished = (await readTopic(kafka, 'interview.created', (messages) => messages.filter(ours).length >= 4)).filter(ours);
    // Each letter twice: the original and the replay, alike.
    expect(republished).toHaveLength(4);
    for (const message of republished) {
      expect(message.key).toBe(userId);
      expect(message.headers).toEqual({ traceparent });
    }
    expect(new Set(republished.map((m) => m.value)).size).toBe(2);

    // Replaying again publishes them again; the consumer's inbox skips them: nothing changes, nothing is dead-lettered.
    expect((await replayDeadLetters(kafka, DEAD_LETTER_TOPIC, { reason: 'unknown_user' })).replayed).toBe(3);
    await drain();
    expect(await stats(userId)).toMatchObject({ interviewsCreated: 2, interviewsActive: 2, storageUsed: 2048 });
    expect(await ends(DEAD_LETTER_TOPIC)).toBe(deadEnd);
  });

  it('runs as npm run dlq:replay, reporting per source topic and reason', async () => {
    const env = { ...process.env, KAFKA_BROKERS: broker.brokers.join(','), NODE_ENV: 'test', DATABASE_URL: '' };
    const run = (...args: string[]) => promisify(execFile)('npm', ['run', '-s', 'dlq:replay', '--', ...args], { env, timeout: 60_000 });
    const { stdout } = await run('--reason', 'unparseable', '--dry-run', '--since', '2020-01-01');
    expect(stdout).toContain(`Read 4 dead letters from ${DEAD_LETTER_TOPIC}; 1 matched, would replay (dry run, nothing published) 1`);
    expect(stdout).toContain('interview.created\tunparseable\t1');
    await expect(run('--reason', 'nonsense')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--reason must be one of'),
    });
    await expect(run('--since', 'yesterday')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--since must be') });
  }, 90_000);
});
