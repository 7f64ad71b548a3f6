import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Kafka, Producer } from 'kafkajs';
import { createKafka } from '../src/messaging/kafka-client';
import { KafkaEventConsumer } from '../src/messaging/kafka-event-consumer';
import { CONSUMED_TOPICS } from '../src/users/usage-events/consumed-event';
import { RunningApp, startApp, testConfig, uniqueIdentity } from './support/app';
import { sql, TEST_DATABASE_URL } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { kafkaEnv, sendEvents, testKafka, testProducer, waitForCommitted } from './support/kafka';
import { waitFor } from './support/wait';

const GROUP = 'stats-consumer-crash';

/** At-least-once delivery end to end: crashes between the database commit and the offset commit, and a clean stop. */
describe('stats consumer: crash and shutdown', () => {
  let broker: KafkaBroker;
  let kafka: Kafka;
  let producer: Producer;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    broker = await startKafkaBroker();
    for (const topic of CONSUMED_TOPICS) await broker.createTopic(topic, 4);
    kafka = testKafka(broker);
    producer = await testProducer(kafka);
  });
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await producer?.disconnect();
    await broker?.stop();
  });

  async function committedOffsets(groupId: string, topic: string) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Object.fromEntries(result.partitions.map((p) => [p.partition, p.offset]));
    } finally {
      await admin.disconnect();
    }
  }

  it('a batch applied but not committed before a crash is redelivered to the next consumer and counted once', async () => {
    const { keycloakId, email } = uniqueIdentity();
    const [{ id: userId }] = await sql<{ id: string }>(
      `INSERT INTO users (keycloak_id, email, full_name) VALUES ($1, $2, 'Crash Test') RETURNING id`,
      [keycloakId, email],
    );
    const events = [1, 2, 3].map((i) => ({
      eventId: randomUUID(),
      eventType: 'interview.created',
      userId,
      data: { interviewId: `i${i}` },
    }));
    await producer.send({ topic: 'interview.created', acks: -1, messages: events.map((e) => ({ key: userId, value: JSON.stringify(e) })) });

    // A real process, killed with SIGKILL: nothing gets to run after its database transaction committed.
    const child = spawn(
      join(__dirname, '..', 'node_modules', '.bin', 'ts-node'),
      ['--transpile-only', join(__dirname, 'support', 'crashing-consumer.ts')],
      {
        env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: TEST_DATABASE_URL, ...kafkaEnv(broker, GROUP) },
      },
    );
    cleanup.push(async () => child.kill('SIGKILL'));
    const applied = JSON.parse((await firstLine(child, 'APPLIED ', 60_000)).slice('APPLIED '.length));
    expect(applied).toMatchObject({ applied: 3, duplicates: 0, deadLetters: 0 });
    const [partition] = applied.offsets.map((o: string) => Number(o.split('/')[1]));
    expect(await interviews(userId)).toEqual({ interviews_created: 3, version: 2 });
    expect((await committedOffsets(GROUP, 'interview.created'))[partition]).toBe('-1');

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const api: RunningApp = await startApp(testConfig(kafkaEnv(broker, GROUP)));
    cleanup.push(() => api.close());
    // The new member takes the partition over (after the dead one's session expired) and commits the batch it was redelivered.
    await waitForCommitted(kafka, GROUP, ['interview.created'], 45_000);
    expect((await committedOffsets(GROUP, 'interview.created'))[partition]).toBe('3');
    expect(await interviews(userId)).toEqual({ interviews_created: 3, version: 2 });
    const processed = await sql('SELECT count(*) AS n FROM processed_events WHERE event_id = ANY($1)', [events.map((e) => e.eventId)]);
    expect(Number(processed[0].n)).toBe(3);

    await sendEvents(producer, [{ eventId: randomUUID(), eventType: 'interview.created', userId, data: { interviewId: 'i4' } }]);
    await waitFor(async () => (await interviews(userId)).interviews_created === 4, 20_000, 'the next event');
  }, 90_000);

  it('a graceful stop finishes the batch in hand and commits it', async () => {
    const topic = 'graceful.stop';
    await broker.createTopic(topic, 1);
    const config = testConfig(kafkaEnv(broker, 'graceful-stop')).kafka;
    const consumer = new KafkaEventConsumer(createKafka(config), { ...config.consumer, groupId: 'graceful-stop', topics: [topic] });
    cleanup.push(() => consumer.stop());
    const steps: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await consumer.start(async (batch) => {
      steps.push(`handling ${batch.length}`);
      await gate;
      steps.push('handled');
    });
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'k', value: 'one' },
        { key: 'k', value: 'two' },
      ],
    });
    await waitFor(() => steps.length > 0, 20_000, 'a batch in hand');

    const stopped = consumer.stop().then(() => steps.push('stopped'));
    setTimeout(release, 300); // hold the batch a while: stop() must wait for it
    await stopped;
    expect(steps).toEqual(['handling 2', 'handled', 'stopped']);
    expect(consumer.status).toBe('stopped');
    expect(await committedOffsets('graceful-stop', topic)).toEqual({ 0: '2' });
  }, 30_000);
});

async function interviews(userId: string) {
  const [row] = await sql('SELECT interviews_created, version FROM users WHERE id = $1', [userId]);
  return row;
}

function firstLine(child: ChildProcess, prefix: string, timeoutMs: number): Promise<string> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${prefix}" line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`consumer process exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith(prefix)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}
