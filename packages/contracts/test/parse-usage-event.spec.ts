import { parseUsageEvent } from '../src';

const USER = '7014ed6a-0226-41c1-a5b5-3338432c0230';
const event = (eventType: string, data: unknown, extra: object = {}) => ({ eventId: 'e-1', eventType, userId: USER, data, ...extra });
const error = (topic: string | undefined, value: unknown) => {
  const parsed = parseUsageEvent({ topic, value: JSON.stringify(value) });
  return parsed.ok ? null : `${parsed.error.kind}: ${parsed.error.message}`;
};

describe('parseUsageEvent', () => {
  it('returns the event as sent, extra fields included, with or without a topic and a timestamp', () => {
    const value = event('media.uploaded', { fileId: 'f', fileSize: 10, mimeType: 'video/mp4' }, { timestamp: '2026-11-21T22:00:00Z' });
    expect(parseUsageEvent({ topic: 'media.uploaded', value: JSON.stringify(value) })).toEqual({ ok: true, event: value });
    const parsed = parseUsageEvent({
      value: Buffer.from(JSON.stringify(event('candidate.added', { interviewId: 'i', candidateId: 'c' }))),
    });
    if (!parsed.ok || parsed.event.eventType !== 'candidate.added') throw new Error('not a candidate.added');
    expect(parsed.event.data.candidateId).toBe('c');
  });

  it('says what each field must be', () => {
    expect(error('interview.created', event('interview.created', {}, { eventId: '', userId: 'u-1', timestamp: 'yesterday' }))).toBe(
      'invalid: eventId must be a string of 1 to 255 characters; timestamp must be an ISO 8601 date and time; userId must be a UUID; data.interviewId must be a non-empty string',
    );
    expect(error('interview.created', event('media.uploaded', { interviewId: 'i' }))).toBe(
      'invalid: eventType must be "interview.created" (the topic)',
    );
    expect(error('media.deleted', event('media.deleted', null))).toBe('invalid: data must be an object');
    for (const fileSize of [-1, 1.5, '10', 2 ** 53, undefined]) {
      expect(error('media.deleted', event('media.deleted', { fileId: 'f', fileSize }))).toBe(
        'invalid: data.fileSize must be a whole number from 0 to 2^53-1',
      );
    }
    // RFC 4122's form only: "urn:uuid:" is valid to ajv-formats, but no user id.
    expect(error('media.deleted', event('media.deleted', { fileId: 'f', fileSize: 1 }, { userId: `urn:uuid:${USER}` }))).toBe(
      'invalid: userId must be a UUID',
    );
  });

  it('tells events it does not consume', () => {
    expect(error('user.created', event('user.created', {}))).toMatch(
      /^unknown_type: user.created is not one of the events user-service consumes/,
    );
    expect(error(undefined, { data: {} })).toBe('unknown_type: the message names no event type (no topic or eventType)');
  });
});
