import { randomUUID } from 'node:crypto';
import { Producer } from 'kafkajs';
import { EventConsumer } from '../src/messaging/event-consumer';
import { CONSUMED_TOPICS } from '../src/users/usage-events/consumed-event';
import { call, createUser, RunningApp, startApp, testConfig } from './support/app';
import { sql } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { kafkaEnv, sendEvents, testKafka, testProducer } from './support/kafka';
import { waitFor } from './support/wait';

/** A crashed stats consumer is restarted with back-off, shows on /health, and fails liveness when it cannot come back. */
describe('stats consumer restarts', () => {
  let broker: KafkaBroker;
  let producer: Producer;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    broker = await startKafkaBroker();
    for (const topic of CONSUMED_TOPICS) await broker.createTopic(topic, 2);
    producer = await testProducer(testKafka(broker));
  });
  afterEach(async () => {
    await broker.up();
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
  });
  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop();
  });

  const consumerHealth = async (app: RunningApp) => {
    const { body } = await call(app.url, 'GET', '/health');
    return { consumer: body.kafka.consumer as string, consumerRestarts: body.kafka.consumerRestarts as number };
  };
  const start = async (group: string, env: Record<string, string> = {}) => {
    const app = await startApp(testConfig({ ...kafkaEnv(broker, group), LOG_LEVEL: 'silent', ...env }));
    apps.push(app);
    await waitFor(async () => (await consumerHealth(app)).consumer === 'running', 30_000, 'the consumer to join its group');
    return app;
  };

  it('comes back after the broker was away, and applies events again', async () => {
    const app = await start(`restart-${randomUUID()}`);
    const { id: userId } = await createUser(app.url);

    await broker.down();
    await waitFor(async () => (await consumerHealth(app)).consumer === 'restarting', 30_000, 'the consumer to crash and restart');
    expect((await consumerHealth(app)).consumerRestarts).toBeGreaterThan(0);
    expect((await call(app.url, 'GET', '/health/live')).status).toBe(200);

    await broker.up();
    await waitFor(async () => (await consumerHealth(app)).consumer === 'running', 60_000, 'the consumer to run again');
    expect(await consumerHealth(app)).toEqual({ consumer: 'running', consumerRestarts: 0 });
    await sendEvents(producer, [{ eventId: randomUUID(), eventType: 'interview.created', userId, data: { interviewId: 'i1' } }]);
    await waitFor(
      async () => (await sql('SELECT interviews_created FROM users WHERE id = $1', [userId]))[0].interviews_created === 1,
      30_000,
      'the event to be applied',
    );
  }, 120_000);

  it('after KAFKA_CONSUMER_MAX_RESTARTS failed restarts it stays down and /health/live fails', async () => {
    const app = await start(`give-up-${randomUUID()}`, { KAFKA_CONSUMER_MAX_RESTARTS: '2' });
    await broker.down();
    await waitFor(async () => (await call(app.url, 'GET', '/health/live')).status === 503, 90_000, 'liveness to fail');
    expect(await consumerHealth(app)).toEqual({ consumer: 'failed', consumerRestarts: 2 });
    expect((await call(app.url, 'GET', '/health/live')).body.code).toBe('SERVICE_UNAVAILABLE');

    await broker.up(); // too late: only a new instance consumes again
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await consumerHealth(app)).consumer).toBe('failed');
    expect((await call(app.url, 'GET', '/health/ready')).status).toBe(200); // reads and writes still work
  }, 120_000);

  it('is not restarted once shutdown began', async () => {
    const app = await start(`shutdown-${randomUUID()}`, { KAFKA_RETRY_INITIAL_MS: '1000', KAFKA_RETRY_MAX_MS: '1000' });
    const consumer = app.app.get(EventConsumer);
    await broker.down();
    await waitFor(() => consumer.status === 'restarting', 30_000, 'the consumer to crash');
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(consumer.status).toBe('stopped');
    await broker.up();
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past the restart it had scheduled
    expect(consumer.status).toBe('stopped');
  }, 60_000);
});
