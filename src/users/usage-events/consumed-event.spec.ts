import { IncomingMessage } from '../../messaging/event-consumer';
import { parseConsumedEvent } from './consumed-event';

const USER = '7014ed6a-0226-41c1-a5b5-3338432c0230';
const message = (topic: string, value: unknown): IncomingMessage => ({
  topic,
  partition: 0,
  offset: '0',
  key: null,
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: {},
});
const envelope = (eventType: string, data: unknown, extra: object = {}) => ({ eventId: 'e-1', eventType, userId: USER, data, ...extra });
const error = (topic: string, value: unknown) => {
  const parsed = parseConsumedEvent(message(topic, value));
  return parsed.ok ? null : `${parsed.reason}: ${parsed.error}`;
};

describe('parseConsumedEvent', () => {
  it('reads every consumed event type', () => {
    const ok = (topic: string, data: unknown) => parseConsumedEvent(message(topic, envelope(topic, data)));
    expect(ok('interview.created', { interviewId: 'i' })).toEqual({
      ok: true,
      event: {
        eventId: 'e-1',
        eventType: 'interview.created',
        userId: USER,
        fileSize: 0n,
        settles: { resource: 'interviews', reference: 'i' },
      },
    });
    expect(ok('interview.completed', { interviewId: 'i' }).ok).toBe(true);
    expect(ok('interview.deleted', { interviewId: 'i', reason: 'extra fields are fine' }).ok).toBe(true);
    expect(ok('candidate.added', { interviewId: 'i', candidateId: 'c' }).ok).toBe(true);
    expect(ok('media.uploaded', { fileId: 'f', fileSize: 2 ** 53 - 1 })).toMatchObject({
      event: { fileSize: 9007199254740991n, settles: { resource: 'storage', reference: 'f' } },
    });
    expect(ok('media.deleted', { fileId: 'f', fileSize: 0 })).toMatchObject({ event: { fileSize: 0n, settles: null } });
  });

  it('tells unparseable from invalid messages and names every problem', () => {
    expect(error('interview.created', '{"eventId":')).toMatch(/^unparseable: not JSON/);
    expect(error('interview.created', null)).toMatch(/^unparseable/);
    expect(error('interview.created', '[1]')).toBe('invalid: the message must be a JSON object');
    expect(error('interview.created', { eventType: 'interview.created', userId: USER, data: { interviewId: 'i' } })).toBe(
      'invalid: eventId must be a string of 1 to 255 characters',
    );
    expect(error('interview.created', envelope('interview.created', { interviewId: 'i' }, { eventId: 'x'.repeat(256) }))).toMatch(
      /eventId/,
    );
    expect(error('interview.created', envelope('media.uploaded', { interviewId: 'i' }))).toBe(
      'invalid: eventType must be "interview.created" (the topic)',
    );
    expect(error('interview.created', envelope('interview.created', {}, { userId: 'u-1', timestamp: 'yesterday' }))).toBe(
      'invalid: timestamp must be an ISO 8601 date and time; userId must be a UUID; data.interviewId must be a non-empty string',
    );
    expect(error('candidate.added', envelope('candidate.added', { interviewId: 'i' }))).toBe(
      'invalid: data.candidateId must be a non-empty string',
    );
    expect(error('media.uploaded', envelope('media.uploaded', null))).toBe('invalid: data must be an object');
    for (const fileSize of [-1, 1.5, '10', 2 ** 53, undefined]) {
      expect(error('media.deleted', envelope('media.deleted', { fileId: 'f', fileSize }))).toBe(
        'invalid: data.fileSize must be a whole number from 0 to 2^53-1',
      );
    }
  });
});
