import { Consumer, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { KafkaBroker, startKafkaBroker } from './kafka-broker';
import { waitFor } from './wait';

// Settings tuned for the librdkafka mock: see kafka-broker.ts for the broker itself.
const retry = { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 };

describe('kafka mock broker', () => {
  let broker: KafkaBroker;
  let kafka: Kafka;
  const clients: Array<Producer | Consumer> = [];

  beforeAll(async () => {
    broker = await startKafkaBroker();
    kafka = new Kafka({ clientId: 'kafka-broker-spec', brokers: broker.brokers, logLevel: logLevel.NOTHING, retry });
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.disconnect()));
    await broker?.stop();
  });

  it('produces, consumes with explicit commits, and survives down/up', async () => {
    const topic = 'user-events';
    const groupId = 'kafka-broker-spec';
    const producer = kafka.producer({
      idempotent: false, // idempotent producer needs a controller the mock does not report
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry,
    });
    clients.push(producer);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: ['user-1', 'user-2', 'user-1'].map((key, i) => ({
        key,
        value: JSON.stringify({ n: i }),
        headers: { 'event-type': 'UserUpdated', seq: String(i) },
      })),
    });

    const received: Array<{ partition: number; offset: string; key: string; value: string; headers: Record<string, string> }> = [];
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 4000,
      heartbeatInterval: 300,
      rebalanceTimeout: 4000,
      maxWaitTimeInMs: 100,
      retry,
    });
    clients.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) {
          const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));
          received.push({ partition: batch.partition, offset: m.offset, key: String(m.key), value: String(m.value), headers });
          resolveOffset(m.offset); // without this the batch is fetched again even after commitOffsets
        }
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        await heartbeat();
      },
    });
    await waitFor(() => received.length >= 3, 15_000, '3 messages');

    expect(received.map((m) => m.headers.seq).sort()).toEqual(['0', '1', '2']);
    const bySeq = Object.fromEntries(received.map((m) => [m.headers.seq, m]));
    expect(bySeq['0']).toMatchObject({ key: 'user-1', value: '{"n":0}', headers: { 'event-type': 'UserUpdated' } });
    expect(bySeq['1']).toMatchObject({ key: 'user-2', value: '{"n":1}' });
    expect(bySeq['2'].partition).toBe(bySeq['0'].partition); // same key, same partition

    // Committed offsets are next-offset-to-read for every partition that got messages.
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    const expected = new Map<number, string>();
    for (const m of received) expected.set(m.partition, (BigInt(m.offset) + 1n).toString());
    for (const [partition, offset] of expected) expect(committed.partitions.find((p) => p.partition === partition)?.offset).toBe(offset);
    await consumer.disconnect();

    // While down, a send fails (retries: 0 here, but the client-level connect retries still take ~3 s);
    // after up, the next send on the main producer succeeds at once.
    const probe = kafka.producer({
      idempotent: false,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 0 },
    });
    clients.push(probe);
    await probe.connect();
    await broker.down();
    await expect(probe.send({ topic, acks: -1, messages: [{ key: 'user-1', value: 'lost' }] })).rejects.toThrow();
    await broker.up();
    const [result] = await producer.send({ topic, acks: -1, messages: [{ key: 'user-1', value: 'after-up' }] });
    expect(result.errorCode).toBe(0);
    expect(result.partition).toBe(bySeq['0'].partition);
    const alreadyThere = received.filter((m) => m.partition === result.partition).length;
    expect(result.baseOffset).toBe(String(alreadyThere)); // appended right after what we consumed
  }, 30_000);
});
