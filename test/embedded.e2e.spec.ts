import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { EmbeddedDatabase } from '../src/config/database';
import { call, startApp, TEST_SECRET, tokenFor } from './support/app';
import { startKafkaBroker } from './support/kafka-broker';
import { FAST_KAFKA_ENV, KafkaCollector } from './support/kafka-collector';
import { waitFor } from './support/wait';

/** The zero-setup mode: no DATABASE_URL, PGlite under DATA_DIR, same migrations. */
describe('embedded database (PGlite)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'user-service-embedded-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const embeddedConfig = (env: Record<string, string> = {}) =>
    loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, ...env });

  it('serves the API, keeps data across restarts and writes the outbox in the same transaction', async () => {
    const token = await tokenFor('kc-embedded');
    const first = await startApp(embeddedConfig());
    let id: string;
    try {
      const created = await call(first.url, 'POST', '/api/v1/users', {
        token,
        body: { keycloakId: 'kc-embedded', email: 'embedded@example.com', profile: { fullName: 'Em Bedded' } },
      });
      expect(created.status).toBe(201);
      id = created.body.id;
      const patched = await call(first.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: 'persisted' } } });
      expect(patched.body.version).toBe(2);
      const duplicate = await call(first.url, 'POST', '/api/v1/users', {
        token,
        body: { keycloakId: 'kc-embedded', email: 'other@example.com', profile: { fullName: 'Em Bedded' } },
      });
      expect(duplicate.body.code).toBe('KEYCLOAK_ID_TAKEN');
    } finally {
      await first.close();
    }

    const second = await startApp(embeddedConfig());
    try {
      const read = await call(second.url, 'GET', `/api/v1/users/${id}`, { token });
      expect(read.status).toBe(200);
      expect(read.body.profile.bio).toBe('persisted');
      const health = await call(second.url, 'GET', '/health');
      expect(health.body.database).toMatchObject({ status: 'connected', embedded: true });
      const outbox = await second.app
        .get(EmbeddedDatabase)
        .pglite.query<{ event_type: string }>('SELECT event_type FROM outbox ORDER BY id');
      expect(outbox.rows.map((r) => r.event_type)).toEqual(['user.created', 'user.updated']);
    } finally {
      await second.close();
    }
  });

  it('finds users: accent-insensitive search (pg_trgm, unaccent), keyset pages on a snapshot, by email', async () => {
    const api = await startApp(embeddedConfig());
    try {
      const admin = await tokenFor('kc-embedded-admin', { admin: true });
      const names = ['Émile Zola', 'Emily Stone', 'Zoë Émond', 'Bob Marley'];
      for (const [i, fullName] of names.entries()) {
        const created = await call(api.url, 'POST', '/api/v1/users', {
          token: admin,
          body: {
            keycloakId: `kc-embedded-dir-${i}`,
            email: `dir${i}@example.com`,
            profile: { fullName, companyName: 'Société Générale' },
          },
        });
        expect(created.status).toBe(201);
      }
      const names$ = async (query: string) =>
        (await call(api.url, 'GET', `/api/v1/users?${query}`, { token: admin })).body.data.map((user: any) => user.profile.fullName);
      expect(await names$('q=EMILE')).toEqual(['Émile Zola']);
      expect(await names$('q=emi&sort=fullName')).toEqual(['Émile Zola', 'Emily Stone']);
      expect(await names$('q=z%C3%B6e')).toEqual(['Zoë Émond']);

      const walked: string[] = [];
      let path = '/api/v1/users?companyName=soci%C3%A9t%C3%A9%20g%C3%A9n%C3%A9rale&sort=fullName&limit=1&include=total';
      for (;;) {
        const page = await call(api.url, 'GET', path, { token: admin });
        expect(page.body).toMatchObject({ total: 4, totalIsEstimate: false });
        walked.push(...page.body.data.map((user: any) => user.profile.fullName));
        if (!page.body.nextCursor) break;
        path = /^<([^>]+)>/.exec(page.headers.get('link')!)![1];
      }
      expect(walked).toEqual(['Bob Marley', 'Émile Zola', 'Emily Stone', 'Zoë Émond']);
      expect((await call(api.url, 'GET', '/api/v1/users/by-email/DIR2@example.com', { token: admin })).body.profile.fullName).toBe(
        'Zoë Émond',
      );
    } finally {
      await api.close();
    }
  });

  it('relays the outbox to Kafka, woken by PGlite notifications', async () => {
    const broker = await startKafkaBroker();
    const collector = await KafkaCollector.start(broker.brokers);
    const api = await startApp(
      embeddedConfig({ KAFKA_BROKERS: broker.brokers.join(','), ...FAST_KAFKA_ENV, OUTBOX_POLL_INTERVAL_MS: '60000' }),
    );
    try {
      const token = await tokenFor('kc-embedded-relay');
      const created = await call(api.url, 'POST', '/api/v1/users', {
        token,
        body: { keycloakId: 'kc-embedded-relay', email: 'relay@example.com', profile: { fullName: 'Re Lay' } },
      });
      const pending = async () => (await call(api.url, 'GET', '/health')).body.outbox.pending;
      // The poll is a minute away: only the trigger's notification can wake the relay this soon.
      await waitFor(async () => (await pending()) === 0, 5000, 'the outbox to drain');
      const [message] = await collector.waitFor([created.body.id], 1);
      expect(message).toMatchObject({ topic: 'user.created', key: created.body.id, headers: { ce_type: 'user.created' } });
    } finally {
      await api.close();
      await collector.stop();
      await broker.stop();
    }
  }, 60_000);

  it('runs the account lifecycle on PGlite too: the jobs at start-up, suspension expiry, erasure and its purge', async () => {
    const admin = await tokenFor('kc-embedded-admin', { admin: true });
    const token = await tokenFor('kc-embedded-life');
    const api = await startApp(embeddedConfig({ LIFECYCLE_JOB_INTERVAL_MS: '100' }));
    try {
      const pglite = api.app.get(EmbeddedDatabase).pglite;
      const created = await call(api.url, 'POST', '/api/v1/users', {
        token,
        body: { keycloakId: 'kc-embedded-life', email: 'life@example.com', profile: { fullName: 'Li Fe', bio: 'Embedded bio' } },
      });
      const id = created.body.id;
      const until = new Date(Date.now() + 86_400_000).toISOString();
      expect((await call(api.url, 'POST', `/api/v1/users/${id}/suspend`, { token: admin, body: { reason: 'Spam', until } })).status).toBe(
        200,
      );
      await pglite.query(`UPDATE users SET suspended_until = now() - interval '1 second' WHERE id = $1`, [id]);
      await waitFor(
        async () => (await call(api.url, 'GET', `/api/v1/users/${id}`, { token })).body.status === 'active',
        10_000,
        'the expiry job',
      );

      expect((await call(api.url, 'DELETE', `/api/v1/users/${id}`, { token })).status).toBe(200);
      await pglite.query(`UPDATE users SET deleted_at = now() - interval '31 days' WHERE id = $1`, [id]);
      await waitFor(async () => (await call(api.url, 'GET', `/api/v1/users/${id}`, { token: admin })).status === 410, 10_000, 'the purge');
      // No Kafka: the purge deleted the erased user's events, but user.erased.
      await waitFor(
        async () => (await pglite.query('SELECT 1 FROM outbox WHERE aggregate_id = $1', [id])).rows.length === 1,
        10_000,
        'the scrub',
      );
      const rows = await pglite.query<{ row: string }>(`SELECT u::text AS row FROM users u UNION ALL SELECT o::text FROM outbox o`);
      expect(rows.rows.map((r) => r.row).join('\n')).not.toMatch(/life@example\.com|Embedded bio|Li Fe|kc-embedded-life/);
      const trail = await call(api.url, 'GET', `/api/v1/users/${id}/audit`, { token: admin });
      expect(trail.body.data.map((e: any) => [e.action, e.actor])).toEqual([['erased', 'system:purge']]);
    } finally {
      await api.close();
    }
  }, 60_000);

  it('refuses a data directory held by another live process, and takes over one left by a dead process', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dataDir, 'pglite.lock'), String(holder.pid));
      await expect(EmbeddedDatabase.open(dataDir)).rejects.toThrow(`is in use by process ${holder.pid}`);
    } finally {
      holder.kill();
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    const db = await EmbeddedDatabase.open(dataDir);
    await db.close();
  });
});
