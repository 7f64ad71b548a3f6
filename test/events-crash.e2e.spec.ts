import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { call, createUser } from './support/app';
import { buildService, Service, startService } from './support/built-service';
import { pendingOf } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { FAST_KAFKA_ENV, KafkaCollector } from './support/kafka-collector';

/** The built service as its own process, as it runs in production. */
function startCrashableService(brokers: string[]): Promise<Service> {
  return startService({ KAFKA_BROKERS: brokers.join(','), OUTBOX_BACKOFF_MAX_MS: '500', ...FAST_KAFKA_ENV });
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

describe('a service killed after committing', () => {
  let broker: KafkaBroker;
  let collector: KafkaCollector;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    await buildService();
    broker = await startKafkaBroker();
    collector = await KafkaCollector.start(broker.brokers);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(children.map((c) => kill(c, 'SIGKILL')));
    await collector?.stop();
    await broker?.stop();
  });

  it('leaves its events in the outbox, and the next service publishes every one', async () => {
    await broker.down(); // commits succeed, nothing can be published
    const first = await startCrashableService(broker.brokers);
    children.push(first.child);
    const users = await Promise.all(
      [0, 1, 2].map(async () => {
        const { id, token } = await createUser(first.url);
        for (let n = 0; n < 9; n++) {
          const patched = await call(first.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: String(n) } } });
          expect(patched.status).toBe(200);
        }
        return id;
      }),
    );
    expect(await pendingOf(users)).toBe(30);
    await kill(first.child, 'SIGKILL');

    await broker.up();
    const second = await startCrashableService(broker.brokers);
    children.push(second.child);
    const received = await collector.waitFor(users, 30, 30_000);
    for (const id of users) {
      const mine = received.filter((m) => m.key === id);
      expect(mine.filter((m) => m.topic === 'user.created')).not.toHaveLength(0); // topics are ordered apart from each other
      const bios = [
        ...new Map(mine.filter((m) => m.topic === 'user.updated').map((m) => [m.headers.ce_id, m.value.data.changes.bio])).values(),
      ];
      expect(bios).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    }
    await kill(second.child, 'SIGTERM');
    expect(second.child.exitCode ?? second.child.signalCode).not.toBeNull();
  }, 90_000);
});
