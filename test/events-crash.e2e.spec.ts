import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, TEST_SECRET, tokenFor, uniqueIdentity } from './support/app';
import { sql, TEST_DATABASE_URL } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { FAST_KAFKA_ENV, KafkaCollector, until } from './support/kafka-collector';
import { freePort } from './support/free-port';

const ROOT = join(__dirname, '..');


/** `npm run build`, skipped when dist/ is newer than every source file (it takes ~10 s on these machines). */
async function buildIfStale(): Promise<void> {
  const newest = async (dir: string): Promise<number> => {
    const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
    const times = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(join(e.parentPath, e.name))).mtimeMs));
    return Math.max(0, ...times);
  };
  const built = await stat(join(ROOT, 'dist/src/main.js')).then((s) => s.mtimeMs, () => -1);
  const sources = Math.max(await newest('src'), await newest('migrations'), (await stat(join(ROOT, 'tsconfig.build.json'))).mtimeMs);
  if (built > sources) return;
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
}

/** The built service as its own process, as it runs in production. */
async function startService(brokers: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_MIGRATIONS_RUN: 'false',
      AUTH_JWT_SECRET: TEST_SECRET,
      KAFKA_BROKERS: brokers.join(','),
      OUTBOX_BACKOFF_MAX_MS: '500',
      ...FAST_KAFKA_ENV,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/health/live`).catch(() => null))?.ok === true, 20_000, 'the service to start');
  return { url, child };
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
    await buildIfStale();
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
    const first = await startService(broker.brokers);
    children.push(first.child);
    const users = await Promise.all(
      [0, 1, 2].map(async () => {
        const identity = uniqueIdentity('crash');
        const token = await tokenFor(identity.keycloakId);
        const res = await call(first.url, 'POST', '/api/v1/users', { token, body: { ...identity, profile: { fullName: 'Cr Ash' } } });
        expect(res.status).toBe(201);
        for (let n = 0; n < 9; n++) {
          const patched = await call(first.url, 'PATCH', `/api/v1/users/${res.body.id}`, { token, body: { profile: { bio: String(n) } } });
          expect(patched.status).toBe(200);
        }
        return res.body.id as string;
      }),
    );
    const unpublished = await sql<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = ANY($1) AND published_at IS NULL', [users]);
    expect(unpublished[0].n).toBe(30);
    await kill(first.child, 'SIGKILL');

    await broker.up();
    const second = await startService(broker.brokers);
    children.push(second.child);
    const received = await collector.waitFor(users, 30, 30_000);
    for (const id of users) {
      const mine = received.filter((m) => m.key === id);
      expect(mine.filter((m) => m.topic === 'user.created')).not.toHaveLength(0); // topics are ordered apart from each other
      const bios = [...new Map(mine.filter((m) => m.topic === 'user.updated').map((m) => [m.headers.ce_id, m.value.data.changes.bio])).values()];
      expect(bios).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    }
    await kill(second.child, 'SIGTERM');
    expect(second.child.exitCode ?? second.child.signalCode).not.toBeNull();
  }, 90_000);
});
