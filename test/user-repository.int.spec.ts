import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config';
import { dataSourceOptions } from '../src/config/database';
import { PgPool } from '../src/config/pg-pool';
import { EmailTaken } from '../src/users/domain/errors';
import { User } from '../src/users/domain/user';
import { Metrics } from '../src/observability/metrics';
import { PgUserReader } from '../src/users/persistence/pg-user.reader';
import { ReadPool } from '../src/config/read-pool';
import { PgUserRepository } from '../src/users/persistence/pg-user.repository';
import { UsageRecorder } from '../src/users/persistence/user.repository';
import { uniqueIdentity } from './support/app';
import { sql, TEST_DATABASE_URL } from './support/database';

describe('PgUserRepository on PostgreSQL', () => {
  let dataSource: DataSource;
  let repository: PgUserRepository;
  let reader: PgUserReader;

  beforeAll(async () => {
    const config = loadConfig({ DATABASE_URL: TEST_DATABASE_URL, NODE_ENV: 'test' });
    dataSource = await new DataSource({ ...dataSourceOptions(config, null), migrationsRun: false }).initialize();
    const metrics = new Metrics();
    const pg = new PgPool(dataSource);
    repository = new PgUserRepository(pg, metrics);
    reader = new PgUserReader(new ReadPool(pg, config), metrics);
  });
  afterAll(() => dataSource.destroy());

  const TEST_AUDIT = { actor: 'service', traceId: 'repository-test' };
  const newUser = () => User.create({ ...uniqueIdentity(), profile: { fullName: 'Repo Test' } });
  const outboxCount = async (id: string) => Number((await sql('SELECT count(*) AS n FROM outbox WHERE aggregate_id = $1', [id]))[0].n);

  it('round-trips every field, bigints exactly', async () => {
    const user = newUser();
    await repository.create(user, TEST_AUDIT);
    await repository.modify(user.id, TEST_AUDIT, (u) => {
      u.updateProfile({ companyName: 'Acme', phone: '+49 30 1234', bio: 'multi\nline' });
      u.updatePreferences({ language: 'fr', notifications: { email: false } });
    });
    await sql('UPDATE users SET storage_used = $2 WHERE id = $1', [user.id, '9007199254740993']);
    const state = (await reader.findById(user.id))!;
    expect(state.profile.fields()).toEqual({ fullName: 'Repo Test', companyName: 'Acme', phone: '+49 30 1234', bio: 'multi\nline' });
    expect(state.preferences.toJSON()).toMatchObject({ language: 'fr', notifications: { email: false } });
    expect(state.stats.storageUsed).toBe(9007199254740993n);
    expect(state.version).toBe(2);
    expect((await reader.findByKeycloakId(user.keycloakId))!.id).toBe(user.id);
  });

  it('writes nothing when the change throws: no state, no version, no outbox row', async () => {
    const user = newUser();
    await repository.create(user, TEST_AUDIT);
    await expect(
      repository.modify(user.id, TEST_AUDIT, (u) => {
        u.updateProfile({ bio: 'never saved' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const state = (await reader.findById(user.id))!;
    expect(state.profile.bio).toBeNull();
    expect(state.version).toBe(1);
    expect(await outboxCount(user.id)).toBe(1);
  });

  it('a failed insert leaves no outbox row behind', async () => {
    const first = newUser();
    await repository.create(first, TEST_AUDIT);
    const clash = User.create({ keycloakId: `${first.keycloakId}-2`, email: first.snapshot().email, profile: { fullName: 'Clash' } });
    await expect(repository.create(clash, TEST_AUDIT)).rejects.toBeInstanceOf(EmailTaken);
    expect(await outboxCount(clash.id)).toBe(0);
  });

  it('serialises concurrent modifications of one user', async () => {
    const user = newUser();
    await repository.create(user, TEST_AUDIT);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => repository.modify(user.id, TEST_AUDIT, (u) => u.updateProfile({ bio: `bio ${i}` }))),
    );
    expect((await reader.findById(user.id))!.version).toBe(11);
    expect(await outboxCount(user.id)).toBe(11);
  });

  it('modifyRow (no lock): concurrent changes, locked ones among them, each apply to the latest row, none is lost', async () => {
    const user = newUser();
    await repository.create(user, TEST_AUDIT);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 3 === 0
          ? repository.modify(user.id, TEST_AUDIT, (u) => u.updateProfile({ phone: `555 01${i}` }))
          : repository.modifyRow(user.id, TEST_AUDIT, (u) => u.updateProfile({ bio: `bio ${i}` })),
      ),
    );
    const state = (await reader.findById(user.id))!;
    expect(state.version).toBe(11);
    expect(['555 010', '555 013', '555 016', '555 019']).toContain(state.profile.phone);
    expect(await outboxCount(user.id)).toBe(11);
    // A change that changes nothing writes nothing.
    const same = await repository.modifyRow(user.id, TEST_AUDIT, (u) => u.updateProfile({ phone: state.profile.phone }));
    expect(same.user.version).toBe(11);
    expect(await outboxCount(user.id)).toBe(11);
  });

  it('records usage events once: a copy in the batch or a redelivery is a duplicate; a failure before the commit claims nothing', async () => {
    const user = newUser();
    await repository.create(user, TEST_AUDIT);
    const created = (eventId: string) => ({ eventId, eventType: 'interview.created', userId: user.id });
    const record = (fresh: Array<{ userId: string }>, users: ReadonlyMap<string, UsageRecorder>) => {
      for (const event of fresh) users.get(event.userId)!.recordInterviewCreated();
      return fresh.length;
    };
    const done = async () => undefined;
    const [a, b] = [randomUUID(), randomUUID()];

    expect(await repository.recordUsageOnce([created(a), created(a)], record, done)).toEqual({ result: 1, duplicates: [created(a)] });
    const failing = async () => {
      throw new Error('dead letters not published');
    };
    await expect(repository.recordUsageOnce([created(b)], record, failing)).rejects.toThrow('dead letters not published');
    expect(await repository.recordUsageOnce([created(a), created(b)], record, done)).toEqual({ result: 1, duplicates: [created(a)] });

    const state = (await reader.findById(user.id))!;
    expect(state.stats.interviewsCreated).toBe(2);
    expect(state.version).toBe(3);
  });
});
