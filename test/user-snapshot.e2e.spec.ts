import { eventSchemas } from '@user-service/contracts';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { Kafka } from 'kafkajs';
import { USER_SNAPSHOT_TOPIC } from '../src/users/persistence/user-snapshots';
import { call, createUser, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { pendingOf } from './support/database';
import { kafkaEnv, readTopic, testKafka } from './support/kafka';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { waitFor } from './support/wait';

/** user.snapshot: read from the beginning, it leaves a consumer with every user's current record, and erased ones gone. */
describe('the user.snapshot topic', () => {
  let broker: KafkaBroker;
  let kafka: Kafka;
  let api: RunningApp;
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addSchema(eventSchemas);
  const validate = ajv.getSchema(`${eventSchemas.$id}#/definitions/UserSnapshot`)!;

  beforeAll(async () => {
    broker = await startKafkaBroker();
    kafka = testKafka(broker);
    api = await startApp(testConfig(kafkaEnv(broker, 'user-snapshot-e2e')));
  });
  afterAll(async () => {
    await api?.close();
    await broker?.stop();
  });

  it('ends with the current public record of every user, soft-deleted ones without personal data, and a tombstone for an erased one', async () => {
    const admin = await tokenFor('kc-snapshot-admin', { admin: true });
    const [changed, deleted, restored, erased, untouched] = await Promise.all([1, 2, 3, 4, 5].map(() => createUser(api.url)));
    const path = (id: string, rest = '') => `/api/v1/users/${id}${rest}`;
    const ok = async (res: Promise<{ status: number }>) => expect((await res).status).toBe(200);
    await ok(call(api.url, 'PATCH', path(changed.id), { token: changed.token, body: { profile: { fullName: 'Renamed Once' } } }));
    await ok(
      call(api.url, 'PATCH', path(changed.id), { token: changed.token, body: { profile: { fullName: 'Renamed Twice', phone: '123' } } }),
    );
    await ok(call(api.url, 'DELETE', path(deleted.id), { token: deleted.token }));
    await ok(call(api.url, 'DELETE', path(restored.id), { token: restored.token }));
    await ok(call(api.url, 'POST', path(restored.id, '/restore'), { token: admin }));
    await ok(call(api.url, 'POST', path(erased.id, '/suspend'), { token: admin, body: { reason: 'Spam' } }));
    await ok(call(api.url, 'POST', path(erased.id, '/erase'), { token: admin }));
    const ids = [changed, deleted, restored, erased, untouched].map((u) => u.id);
    await waitFor(async () => (await pendingOf(ids)) === 0, 30_000, 'the events to be relayed');

    const current = async (id: string) => (await call(api.url, 'GET', path(id), { token: admin })).body;
    const record = (user: Record<string, any>) => ({
      schemaVersion: 1,
      id: user.id,
      status: user.status,
      keycloakId: user.keycloakId,
      email: user.email,
      fullName: user.profile.fullName,
      avatarUrl: user.profile.avatarUrl,
      version: user.version,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
    });
    const expected: Record<string, unknown> = {
      [changed.id]: record(await current(changed.id)),
      [restored.id]: record(await current(restored.id)),
      [untouched.id]: record(await current(untouched.id)),
      [erased.id]: null,
    };
    expect(expected[changed.id]).toMatchObject({ fullName: 'Renamed Twice', version: 3 });

    // What a consumer that reads the topic from the beginning keeps: the last value per key (what compaction keeps).
    const messages = await readTopic(kafka, USER_SNAPSHOT_TOPIC, (read) => {
      const last = new Map(read.map((m) => [m.key, m.value]));
      return ids.every((id) => last.has(id)) && last.get(erased.id) === null && last.get(deleted.id)?.includes('"deleted"') === true;
    });
    const ours = messages.filter((m) => ids.includes(m.key!));
    const latest = new Map(ours.map((m) => [m.key!, m.value === null ? null : JSON.parse(m.value)]));
    for (const [id, value] of Object.entries(expected)) expect({ id, value: latest.get(id) }).toEqual({ id, value });
    const deletedUser = latest.get(deleted.id);
    expect(deletedUser).toEqual({
      schemaVersion: 1,
      id: deleted.id,
      status: 'deleted',
      keycloakId: null,
      email: null,
      fullName: null,
      avatarUrl: null,
      version: 2,
      createdAt: deleted.user.createdAt,
      updatedAt: expect.any(String),
    });

    // Every value is as asyncapi.yaml says; per user, versions never go back; the erased user had records before its tombstone.
    for (const message of ours) {
      expect({ value: message.value, valid: validate(message.value === null ? null : JSON.parse(message.value)) }).toEqual({
        value: message.value,
        valid: true,
      });
      expect(message.headers).toMatchObject({ 'content-type': 'application/json', schema_version: '1' });
    }
    for (const id of ids) {
      const versions = ours.filter((m) => m.key === id && m.value !== null).map((m) => JSON.parse(m.value!).version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      // A snapshot is the user's record when the relay publishes: the erased user's events may all go out after the
      // erasure (tombstones only), and a batch's intermediate states are skipped (created + suspended → "suspended").
      if (id !== erased.id) expect(versions.length).toBeGreaterThanOrEqual(1);
    }
    const erasedValues = ours.filter((m) => m.key === erased.id).map((m) => (m.value === null ? null : JSON.parse(m.value).status));
    expect(erasedValues.at(-1)).toBeNull();
    // Once a tombstone is out, no record of the erased user follows it.
    expect(erasedValues.slice(erasedValues.indexOf(null))).toEqual(erasedValues.slice(erasedValues.indexOf(null)).map(() => null));
    // Nothing personal beyond the documented fields, ever: no phone, no suspension reason.
    for (const message of ours) expect(message.value ?? '').not.toMatch(/123|Spam|phone|suspension/);
  });
});
