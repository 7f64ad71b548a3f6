import { EventMessage, parseUserEvent, UserEvent } from '../src';

const USER = '7014ed6a-0226-41c1-a5b5-3338432c0230';
const created: UserEvent = {
  eventId: '5b0f7f0e-4a1c-4d5e-9a55-0c1c5d1f1a01',
  eventType: 'user.created',
  timestamp: '2026-11-21T21:52:23.945Z',
  userId: USER,
  data: { keycloakId: 'kc-ann', email: 'ann@example.com', fullName: 'Ann Smith' },
};

/** As the relay writes it (src/messaging/outbox-message.ts), as kafkajs hands it over: Buffers throughout. */
function published(event: object & Partial<UserEvent>, change: Partial<EventMessage> = {}): EventMessage {
  const headers = {
    ce_specversion: '1.0',
    ce_id: event.eventId,
    ce_type: event.eventType,
    ce_source: '/user-service',
    ce_time: event.timestamp,
    ce_subject: event.userId,
    'content-type': 'application/json',
  };
  return {
    topic: event.eventType,
    key: Buffer.from(event.userId ?? ''),
    value: Buffer.from(JSON.stringify(event)),
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(String(value))])),
    ...change,
  };
}

const error = (message: EventMessage) => {
  const parsed = parseUserEvent(message);
  return parsed.ok ? null : `${parsed.error.kind}: ${parsed.error.message}`;
};

describe('parseUserEvent', () => {
  it('returns the event, typed by its eventType', () => {
    const parsed = parseUserEvent(published(created));
    expect(parsed).toEqual({ ok: true, event: created });
    if (!parsed.ok || parsed.event.eventType !== 'user.created') throw new Error('not a user.created');
    expect(parsed.event.data.email).toBe('ann@example.com');
  });

  it('takes strings as well as Buffers, and finds the event type in ce_type, or in the value, without a topic', () => {
    const strings = published(created, {
      key: USER,
      value: JSON.stringify(created),
      headers: { ...published(created).headers, ce_type: ['user.created'], ce_source: '/user-service' },
    });
    expect(parseUserEvent(strings).ok).toBe(true);
    expect(parseUserEvent({ ...strings, topic: undefined }).ok).toBe(true);
    const { ce_type: _, ...withoutType } = published(created).headers!;
    expect(error({ value: JSON.stringify(created), headers: withoutType })).toBe('bad_headers: header ce_type must be a non-empty string');
  });

  it('tells an unparseable message and an unknown event type', () => {
    expect(error(published(created, { value: null }))).toBe('unparseable: the message has no value');
    expect(error(published(created, { value: '{"eventId":' }))).toMatch(/^unparseable: not JSON: /);
    const teleported = parseUserEvent(published({ ...created, eventType: 'user.teleported' } as never));
    expect(teleported).toMatchObject({ ok: false, error: { kind: 'unknown_type', eventType: 'user.teleported' } });
    expect(error({ value: '{}' })).toBe('unknown_type: the message names no event type (no topic, ce_type header or eventType)');
    expect(error(published(created, { topic: 'interview.created' }))).toMatch(/^unknown_type: interview.created is not one of/);
  });

  it('names every way the value breaks its schema', () => {
    const { eventId: _, ...withoutId } = created;
    expect(error(published(withoutId as never))).toBe('invalid: eventId must be a UUID');
    expect(error(published({ ...created, data: { ...created.data, phone: '1', email: 'ann' } as never }))).toBe(
      'invalid: data.phone is not allowed; data.email must be an email address',
    );
    expect(error(published({ ...created, timestamp: 'yesterday', userId: 'u-1' }))).toBe(
      'invalid: timestamp must be an ISO 8601 date and time; userId must be a UUID',
    );
    expect(error(published(created, { topic: 'user.updated' }))).toMatch(/^invalid: eventType must be "user.updated" \(the topic\); /);
    const updated = { ...created, eventType: 'user.updated', data: { changes: { fullName: 'A' } } } as const;
    expect(error(published(updated))).toMatch(/^invalid: data.changes.fullName must be a string of 2 to 100 characters/);
    expect(error(published(created, { key: 'someone-else' }))).toBe(`invalid: the key must be the userId (${USER}), not someone-else`);
    expect(error(published([created] as never, { topic: 'user.created' }))).toBe('invalid: the message must be a JSON object');
  });

  it('checks the CloudEvents headers, and that they agree with the value', () => {
    const headers = published(created).headers!;
    const { ce_source: _, ...withoutSource } = headers;
    expect(error(published(created, { headers: withoutSource }))).toBe('bad_headers: header ce_source must be "/user-service"');
    expect(error(published(created, { headers: { ...headers, ce_specversion: '0.3', 'content-type': 'text/plain' } }))).toBe(
      'bad_headers: header ce_specversion must be "1.0"; header content-type must be "application/json"',
    );
    expect(error(published(created, { headers: { ...headers, ce_id: 'c3b9a6a0-0000-4000-8000-000000000000' } }))).toBe(
      `bad_headers: header ce_id must be the eventId (${created.eventId})`,
    );
    expect(error(published(created, { headers: { ...headers, ce_time: ['2026-11-21T21:52:23.945Z', 'now'] } }))).toBe(
      'bad_headers: header ce_time must be sent once, not 2 times',
    );
    expect(parseUserEvent(published(created, { headers: { ...headers, traceparent: '00-abc-def-01' } })).ok).toBe(true);
  });
});
