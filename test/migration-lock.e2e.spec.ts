import { Client } from 'pg';
import { MIGRATIONS } from '../src/config/database';
import { call, RunningApp, startApp, testConfig } from './support/app';
import { sql, TEST_DATABASE_URL } from './support/database';

/** Instances started together on an empty database: the migrations run once, under a lock per schema. */
describe('migrations under a lock', () => {
  const run = `${Date.now().toString(36)}${process.pid}`;
  const schemas = [`migrate_a_${run}`, `migrate_b_${run}`];
  const apps: RunningApp[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await sql(`DROP SCHEMA IF EXISTS ${schemas.join(', ')} CASCADE`);
  });

  it('three instances per schema, started at once on two empty schemas, all start and apply each migration once', async () => {
    // Without the lock they recover, but only by TypeORM's retries after `relation "migrations" already exists`.
    const logged: string[] = [];
    const starts = schemas.flatMap((schema) =>
      [1, 2, 3].map(() =>
        startApp(testConfig({ DATABASE_SCHEMA: schema, DATABASE_MIGRATIONS_RUN: 'true', LOG_LEVEL: 'warn' }), {
          logDestination: { write: (line: string) => logged.push(line) },
        }),
      ),
    );
    const results = await Promise.allSettled(starts);
    for (const result of results) if (result.status === 'fulfilled') apps.push(result.value);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(logged).toEqual([]);

    for (const schema of schemas) {
      const applied = await sql<{ name: string }>(`SELECT name FROM ${schema}.migrations ORDER BY id`);
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((Migration) => new Migration().name));
    }
    for (const app of apps) expect((await call(app.url, 'GET', '/health/ready')).status).toBe(200);
  }, 120_000);

  it("one schema's migrations do not wait for another's lock", async () => {
    const holder = new Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schemas[0]}` });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('user-service:migrations'), hashtext(current_schema()))`);
      // Schema b is not held: an instance migrating it starts.
      const other = await startApp(testConfig({ DATABASE_SCHEMA: schemas[1], DATABASE_MIGRATIONS_RUN: 'true' }));
      apps.push(other);
      // Schema a is held (as by a migrating Job): an instance waits for it.
      let started = false;
      const waiting = startApp(testConfig({ DATABASE_SCHEMA: schemas[0], DATABASE_MIGRATIONS_RUN: 'true' })).then((app) => {
        started = true;
        apps.push(app);
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(started).toBe(false);
      await holder.query(`SELECT pg_advisory_unlock_all()`);
      await waiting;
      expect(started).toBe(true);
    } finally {
      await holder.end();
    }
  }, 60_000);
});
