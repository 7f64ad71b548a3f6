import { eventSchemas, parseUsageEvent, parseUserEvent, USAGE_EVENT_TYPES } from '@user-service/contracts';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { toOutgoingMessage } from '../src/messaging/outbox-message';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, tokenFor } from './support/app';
import { sql } from './support/database';

const document = parse(readFileSync(resolve(__dirname, '..', 'asyncapi.yaml'), 'utf8'));

/**
 * An event's problems by the schemas of @user-service/contracts (asyncapi.yaml's, see contracts.e2e.spec.ts):
 * a published one as the relay sends it (its own toOutgoingMessage: value, key and CloudEvents headers), a
 * consumed one as its producer does.
 */
function problems(payload: any): string[] {
  const parsed = (USAGE_EVENT_TYPES as readonly string[]).includes(payload.eventType)
    ? parseUsageEvent({ topic: payload.eventType, value: JSON.stringify(payload) })
    : parseUserEvent(toOutgoingMessage({ id: '0', payload }));
  return parsed.ok ? [] : parsed.error.problems;
}

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
addFormats(ajv);
ajv.addSchema(eventSchemas);
/** A user.snapshot value's problems by the package's JSON Schema (asyncapi.yaml's UserSnapshot). */
function snapshotErrors(value: unknown): unknown[] {
  const validate = ajv.getSchema(`${eventSchemas.$id}#/definitions/UserSnapshot`)!;
  return validate(value) ? [] : validate.errors!;
}

/** Follows a local `$ref` such as '#/channels/userEvents/messages/userCreated'. */
function resolveRef(ref: string): any {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: any, key) => (node === undefined ? undefined : node[key]), document);
}

describe('asyncapi.yaml', () => {
  const check = problems;

  it('is AsyncAPI 3.0 whose references all resolve, with a message for every event in and out', () => {
    expect(document.asyncapi).toBe('3.0.0');
    const refs = JSON.stringify(document)
      .match(/"\$ref":"[^"]+"/g)!
      .map((r) => r.slice(8, -1));
    for (const ref of refs) expect({ ref, found: resolveRef(ref) !== undefined }).toEqual({ ref, found: true });
    // One topic per event type: each operation's channel address is the name of the message it carries.
    const byAction = (action: string) =>
      Object.values<any>(document.operations)
        .filter((operation) => operation.action === action)
        .map((operation) => {
          const names = operation.messages.map((m: any) => resolveRef(resolveRef(m.$ref).$ref).name);
          expect(names).toEqual([resolveRef(operation.channel.$ref).address]);
          return names[0];
        });
    expect(byAction('send')).toEqual([
      'user.created',
      'user.updated',
      'user.avatar_uploaded',
      'user.deleted',
      'user.quota_threshold_reached',
      'user.suspended',
      'user.reactivated',
      'user.restored',
      'user.erased',
      'user.snapshot',
    ]);
    expect(byAction('receive')).toEqual([
      'interview.created',
      'interview.completed',
      'interview.deleted',
      'candidate.added',
      'media.uploaded',
      'media.deleted',
    ]);
  });

  it('accepts its own examples', () => {
    for (const message of Object.values<any>(document.components.messages)) {
      if (message.name === 'user.snapshot') {
        for (const example of message.examples) expect(snapshotErrors(example.payload)).toEqual([]);
        continue;
      }
      for (const example of message.examples ?? [])
        expect({ name: message.name, errors: check(example.payload) }).toEqual({ name: message.name, errors: [] });
    }
  });

  describe('against real messages', () => {
    let api: RunningApp;
    beforeAll(async () => {
      api = await startApp();
    });
    afterAll(() => api.close());

    it('describes every outbox payload the service writes: create, patch, put, preferences, delete', async () => {
      const { id, token } = await createUser(api.url, { profile: { fullName: 'Async Api', phone: '123 456' } });
      const steps = [
        await call(api.url, 'PATCH', `/api/v1/users/${id}`, {
          token,
          body: { profile: { companyName: 'Acme', phone: null, bio: 'Line 1\nLine 2' } },
        }),
        await call(api.url, 'PUT', `/api/v1/users/${id}/profile`, { token, body: { fullName: 'Async B. Api' } }),
        await call(api.url, 'PATCH', `/api/v1/users/${id}/preferences`, {
          token,
          body: { language: 'pt-br', notifications: { email: false } },
        }),
        await call(api.url, 'DELETE', `/api/v1/users/${id}`, { token }),
      ];
      expect(steps.map((s) => s.status)).toEqual([200, 200, 200, 200]);

      const rows = await sql<{ payload: any }>('SELECT payload FROM outbox WHERE aggregate_id = $1 ORDER BY id', [id]);
      expect(rows.map((r) => r.payload.eventType)).toEqual([
        'user.created',
        'user.updated',
        'user.updated',
        'user.updated',
        'user.deleted',
      ]);
      for (const { payload } of rows) expect({ payload, errors: check(payload) }).toEqual({ payload, errors: [] });

      // Whatever other tests left in the outbox is held to the contract too.
      const all = await sql<{ payload: any }>('SELECT payload FROM outbox');
      for (const { payload } of all) expect({ payload, errors: check(payload) }).toEqual({ payload, errors: [] });

      // The schemas have teeth: a message that drifts from the contract is rejected.
      const [createdEvent, updatedEvent] = rows.map((r) => r.payload);
      const { eventId: _, ...withoutId } = createdEvent;
      expect(check(withoutId)).not.toEqual([]);
      expect(check({ ...createdEvent, data: { ...createdEvent.data, phone: '123' } })).not.toEqual([]);
      expect(check({ ...createdEvent, timestamp: 'yesterday' })).not.toEqual([]);
      expect(check({ ...updatedEvent, data: { changes: {} } })).not.toEqual([]);
      expect(check({ ...updatedEvent, data: { changes: { email: 'x@example.com' } } })).not.toEqual([]);
    });

    it('describes the lifecycle events: suspended (with and without until), reactivated, deleted, restored, erased', async () => {
      const admin = await tokenFor('kc-asyncapi-admin', { admin: true });
      const internal = { 'x-internal-token': INTERNAL_TOKEN };
      const { id } = await createUser(api.url);
      const until = new Date(Date.now() + 86_400_000).toISOString();
      const steps = [
        await call(api.url, 'POST', `/api/v1/users/${id}/suspend`, { headers: internal, body: { reason: 'Spam', until } }),
        await call(api.url, 'POST', `/api/v1/users/${id}/reactivate`, { headers: internal }),
        await call(api.url, 'POST', `/api/v1/users/${id}/suspend`, { token: admin, body: { reason: 'Fraud check' } }),
        await call(api.url, 'DELETE', `/api/v1/users/${id}`, { token: admin }),
        await call(api.url, 'POST', `/api/v1/users/${id}/restore`, { token: admin }),
        await call(api.url, 'POST', `/api/v1/users/${id}/erase`, { token: admin }),
      ];
      expect(steps.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const rows = await sql<{ payload: any }>('SELECT payload FROM outbox WHERE aggregate_id = $1 ORDER BY id', [id]);
      expect(rows.map((r) => r.payload.eventType)).toEqual([
        'user.created',
        'user.suspended',
        'user.reactivated',
        'user.suspended',
        'user.deleted',
        'user.restored',
        'user.deleted',
        'user.erased',
      ]);
      for (const { payload } of rows) expect({ payload, errors: check(payload) }).toEqual({ payload, errors: [] });
      const erased = rows[rows.length - 1].payload;
      expect(check({ ...erased, data: { userId: id, email: 'x@example.com' } })).not.toEqual([]);
      expect(check({ ...rows[0].payload, data: { reason: '', until } })).not.toEqual([]);
    });

    it('describes the events consumed from other services, rejecting malformed ones', () => {
      const base = { eventId: 'evt-1', timestamp: '2026-11-21T22:00:00.000Z', userId: '7014ed6a-0226-41c1-a5b5-3338432c0230' };
      for (const type of ['interview.created', 'interview.completed', 'interview.deleted']) {
        expect(check({ ...base, eventType: type, data: { interviewId: 'iv-9' } })).toEqual([]);
        expect(check({ ...base, eventType: type, data: {} })).not.toEqual([]);
      }
      expect(check({ ...base, eventType: 'candidate.added', data: { interviewId: 'iv-9', candidateId: 'c-1' } })).toEqual([]);
      expect(check({ ...base, eventType: 'candidate.added', data: { interviewId: 'iv-9' } })).not.toEqual([]);
      for (const type of ['media.uploaded', 'media.deleted']) {
        expect(check({ ...base, eventType: type, data: { fileId: 'f-1', fileSize: 2048 } })).toEqual([]);
        expect(check({ ...base, eventType: type, data: { fileId: 'f-1', fileSize: -1 } })).not.toEqual([]);
      }
      expect(check({ ...base, eventType: 'media.uploaded', userId: 'not-a-uuid', data: { fileId: 'f', fileSize: 1 } })).not.toEqual([]);
    });
  });
});
