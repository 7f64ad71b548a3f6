import { USER_EVENT_TYPES } from '@user-service/contracts';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Kafka, Producer } from 'kafkajs';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig } from './support/app';
import { buildContracts } from './support/built-service';
import { sql } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { kafkaEnv, testKafka, testProducer } from './support/kafka';
import { waitFor } from './support/wait';

const ROOT = join(__dirname, '..');
const EXAMPLE = 'examples/user-directory-sync';

/** The example consumer as another team would run it, against the service relaying its outbox to Kafka. */
describe(`${EXAMPLE} against the service`, () => {
  let broker: KafkaBroker;
  let api: RunningApp;
  let kafka: Kafka;
  let producer: Producer;
  let example: ChildProcess;
  let exited: Promise<number | null>;
  const schema = `example_consumer_${Date.now().toString(36)}${process.pid}`;
  const lines: any[] = [];
  const stderr: string[] = [];

  beforeAll(async () => {
    // It loads @user-service/contracts through the workspace, as a dependency: the package's dist/.
    await buildContracts();
    broker = await startKafkaBroker();
    for (const topic of USER_EVENT_TYPES) await broker.createTopic(topic, 4);
    kafka = testKafka(broker);
    producer = await testProducer(kafka);
    // A schema of its own: the shared one's outbox may hold thousands of earlier test files' events, which the relay
    // would publish first and the example would fetch one by one, before the events this test waits for.
    api = await startApp(
      testConfig({ ...kafkaEnv(broker, 'example-consumer-e2e'), DATABASE_SCHEMA: schema, DATABASE_MIGRATIONS_RUN: 'true' }),
    );
    example = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', `${EXAMPLE}/src/main.ts`], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        TS_NODE_PROJECT: `${EXAMPLE}/tsconfig.json`,
        KAFKA_BROKERS: broker.brokers.join(','),
        KAFKA_GROUP_ID: `user-directory-sync-${randomUUID()}`,
        // The mock broker answers an empty fetch only when its wait is over, even if messages arrive meanwhile.
        KAFKA_MAX_WAIT_MS: '100',
        USER_SERVICE_URL: api.url,
        INTERNAL_API_TOKEN: INTERNAL_TOKEN,
      },
    });
    exited = new Promise((resolve) => example.once('exit', resolve));
    createInterface({ input: example.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
    createInterface({ input: example.stderr! }).on('line', (line) => stderr.push(line));
    await waitFor(() => lines.some((line) => line.joined), 60_000, `the example to join its group (stderr: ${stderr.join('\n')})`);
  }, 120_000);
  afterAll(async () => {
    if (example?.exitCode === null) example.kill('SIGKILL');
    await producer?.disconnect();
    await api?.close();
    await broker?.stop();
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  const about = (id: string) => lines.filter((line) => line.synced?.id === id || line.removed === id);
  const latest = (id: string) => about(id).at(-1);

  it('keeps its directory in step: created, changed, then deleted', async () => {
    const { id, token, email } = await createUser(api.url, { profile: { fullName: 'Dora Directory' } });
    await waitFor(() => latest(id)?.synced, 30_000, 'the new user in the directory');
    expect(latest(id).synced).toEqual({ id, email, fullName: 'Dora Directory', companyName: null, avatarUrl: null, version: 1 });

    const patch = await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { companyName: 'Acme' } } });
    expect(patch.status).toBe(200);
    await waitFor(() => latest(id)?.synced?.companyName === 'Acme', 30_000, 'the change in the directory');
    expect(latest(id).synced).toMatchObject({ companyName: 'Acme', version: 2 });

    expect((await call(api.url, 'DELETE', `/api/v1/users/${id}`, { token })).status).toBe(200);
    await waitFor(() => latest(id)?.removed, 30_000, 'the user gone from the directory');
    expect(example.exitCode).toBeNull(); // still running
  });

  it('skips a message that breaks the contract, saying why, and goes on with the next', async () => {
    const [notJson, withoutHeaders] = [randomUUID(), randomUUID()];
    const envelope = { eventId: randomUUID(), eventType: 'user.created', timestamp: new Date().toISOString(), userId: withoutHeaders };
    await producer.send({
      topic: 'user.created',
      acks: -1,
      messages: [
        { key: notJson, value: 'not json' },
        {
          key: withoutHeaders,
          value: JSON.stringify({ ...envelope, data: { keycloakId: 'kc', email: 'x@example.com', fullName: 'No Headers' } }),
        },
      ],
    });
    const good = await createUser(api.url);
    const skipped = (key: string) => lines.find((line) => line.skipped?.key === key)?.skipped;
    await waitFor(() => skipped(notJson) && skipped(withoutHeaders), 30_000, 'both messages skipped');
    expect(skipped(notJson)).toMatchObject({ kind: 'unparseable', message: expect.stringMatching(/^not JSON/) });
    expect(skipped(withoutHeaders)).toMatchObject({ kind: 'bad_headers', eventType: 'user.created' });
    expect(skipped(withoutHeaders).problems).toContain('header ce_specversion must be "1.0"');
    await waitFor(() => latest(good.id)?.synced, 30_000, 'the user created after them');
  });

  it('stops cleanly on SIGTERM', async () => {
    example.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
