import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config';
import { dataSourceOptions } from '../src/config/database';
import { PgPool } from '../src/config/pg-pool';
import { ReadPool } from '../src/config/read-pool';
import { Metrics } from '../src/observability/metrics';
import { User } from '../src/users/domain/user';
import { PgUserReader } from '../src/users/persistence/pg-user.reader';
import { PgUserRepository } from '../src/users/persistence/pg-user.repository';
import { pageStatement } from '../src/users/persistence/user-directory.sql';
import { DirectoryPageRequest } from '../src/users/persistence/user.repository';
import { uniqueIdentity } from './support/app';
import { TEST_DATABASE_URL, withClient } from './support/database';
import { uniqueCompany } from './support/directory';

/** The directory's SQL on PostgreSQL: which index answers each query shape, and the total. */
describe('user directory on PostgreSQL', () => {
  let dataSource: DataSource;
  let reader: PgUserReader;
  let repository: PgUserRepository;

  beforeAll(async () => {
    const config = loadConfig({ DATABASE_URL: TEST_DATABASE_URL, NODE_ENV: 'test' });
    dataSource = await new DataSource({ ...dataSourceOptions(config, null), migrationsRun: false }).initialize();
    const pg = new PgPool(dataSource);
    reader = new PgUserReader(new ReadPool(pg, config), new Metrics());
    repository = new PgUserRepository(pg, new Metrics());
  });
  afterAll(() => dataSource.destroy());

  const page = (request: Partial<DirectoryPageRequest>) =>
    pageStatement({ filters: { status: 'active' }, sort: '-createdAt', limit: 20, ...request });

  it('answers each query shape from its index (planned over 20,000 users, then rolled back)', async () => {
    const after = {
      sortKey: 'ann',
      id: '7014ed6a-0226-41c1-a5b5-3338432c0230',
      snapshot: { xids: '10:20:12,15', takenAt: '2026-01-01T00:00:00.000000Z' },
    };
    const plans = await withClient(async (client) => {
      await client.query('BEGIN');
      try {
        await client.query(`
          INSERT INTO users (keycloak_id, email, full_name, company_name, preferences, status, created_at, updated_at, deleted_at)
          SELECT 'plan-' || g, 'plan' || g || '@example.com', 'Plan Person ' || g, 'Company ' || g % 500,
                 jsonb_build_object('language', CASE WHEN g % 100 = 0 THEN 'kl-GL' ELSE 'en' END),
                 CASE WHEN g % 30 = 0 THEN 'deleted' ELSE 'active' END, now() - g * interval '1 minute', now(),
                 CASE WHEN g % 30 = 0 THEN now() END
          FROM generate_series(1, 20000) AS g`);
        // Costed as the index is, not as its pending list happens to be (what earlier tests left in it, up to 4 MB).
        await client.query("SELECT gin_clean_pending_list('idx_users_search')");
        await client.query('ANALYZE users');
        const explain = async (statement: { text: string; values: unknown[] }) =>
          (await client.query(`EXPLAIN ${statement.text}`, statement.values)).rows.map((row) => row['QUERY PLAN']).join('\n');
        // 20,000 rows are few enough to scan for q: what matters is that its condition can use the index.
        await client.query('SET LOCAL enable_seqscan = off');
        const q = await explain(page({ filters: { status: 'active', q: '12345' } }));
        await client.query('SET LOCAL enable_seqscan = on');
        return {
          q,
          created: await explain(page({})),
          updated: await explain(page({ sort: 'updatedAt' })),
          name: await explain(page({ sort: '-fullName', after })),
          email: await explain(page({ filters: { status: 'active', email: 'plan77@example.com' } })),
          deletedEmail: await explain(page({ filters: { status: 'deleted', email: 'plan90@example.com' } })),
          company: await explain(page({ filters: { status: 'active', companyName: 'company 7' } })),
          language: await explain(page({ filters: { status: 'active', language: 'kl-GL' } })),
        };
      } finally {
        await client.query('ROLLBACK');
      }
    });
    expect(plans.q).toContain('Bitmap Index Scan on idx_users_search');
    expect(plans.created).toContain('Index Scan Backward using idx_users_created_at_id');
    expect(plans.updated).toContain('Index Scan using idx_users_updated_at_id');
    // Keyset: the row comparison is an index condition, whether the index is walked or bitmap-scanned.
    expect(plans.name).toMatch(/(using|on) idx_users_full_name_id[^\n]*\n\s+Index Cond: \(ROW\(search_fold/);
    expect(plans.email).toContain('users_email_live_key');
    expect(plans.deletedEmail).toContain('idx_users_email_deleted');
    expect(plans.company).toContain('idx_users_company_name');
    expect(plans.language).toContain('idx_users_language');
  });

  it('counts exactly up to the limit it is given, and estimates beyond', async () => {
    const companyName = uniqueCompany();
    for (let i = 0; i < 4; i++) {
      await repository.create(User.create({ ...uniqueIdentity(), profile: { fullName: `Counted ${i}`, companyName } }), {
        actor: 'service',
        traceId: 'directory-test',
      });
    }
    expect(await reader.countMatching({ status: 'active', companyName }, 10)).toEqual({ count: 4, exact: true });
    expect(await reader.countMatching({ status: 'active', companyName }, 4)).toEqual({ count: 4, exact: true });
    const estimated = await reader.countMatching({ status: 'active', companyName }, 3);
    expect(estimated).toEqual({ count: expect.any(Number), exact: false });
    expect(estimated.count).toBeGreaterThanOrEqual(4);
  });
});
