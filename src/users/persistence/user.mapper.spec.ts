import { toUserView } from '../user.view';
import { toState, toView, USER_COLUMNS, UserRecord, VIEW_COLUMNS, ViewRecord } from './user.mapper';

const row = (change: Partial<UserRecord> = {}): UserRecord =>
  ({
    id: '6f1c2a9e-0d4b-4c1e-9a57-3b0f1d2e4c5a',
    keycloakId: 'kc-1',
    email: 'ada@example.com',
    status: 'active',
    fullName: 'Ada Lovelace',
    companyName: null,
    phone: '+44 20 7946 0000',
    bio: null,
    avatarUrl: null,
    avatarKeys: [],
    interviewsCreated: 3,
    interviewsActive: 2,
    candidatesTotal: 7,
    storageUsed: '1073741824',
    maxInterviews: 10,
    maxStorage: '5368709120',
    preferences: { language: 'fr', timezone: 'Europe/Paris', notifications: { email: false, productNews: true, interviewReminders: true } },
    version: 4,
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
    updatedAt: new Date('2026-02-03T04:05:06.789Z'),
    deletedAt: null,
    erasedAt: null,
    suspensionReason: null,
    suspendedAt: null,
    suspendedUntil: null,
    legalHoldReason: null,
    legalHoldAt: null,
    ...change,
  }) as UserRecord;

/** The row as findView reads it (VIEW_COLUMNS): timestamps as PostgreSQL's text in a UTC session. */
const pgText = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '+00');
const asViewRead = (record: UserRecord) =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [key, value instanceof Date ? pgText(value) : value])) as ViewRecord;

describe('toView (the view straight from the row)', () => {
  it.each([
    ['an active user', row()],
    ['a user with an avatar and a company', row({ avatarUrl: 'https://cdn.example.com/a.webp', companyName: 'Analytical Engines' })],
    ['a row with older, partial preferences', row({ preferences: { language: 'de', notifications: { email: false } } as never })],
    ['a row without preferences', row({ preferences: null as never })],
    [
      'a suspended user',
      row({
        status: 'suspended',
        suspensionReason: 'spam',
        suspendedAt: new Date('2026-03-01T00:00:00Z'),
        suspendedUntil: new Date('2026-04-01T00:00:00Z'),
      }),
    ],
    [
      'a user suspended until further notice',
      row({ status: 'suspended', suspensionReason: 'abuse', suspendedAt: new Date('2026-03-01T00:00:00Z') }),
    ],
    ['an active user whose suspension ended', row({ suspensionReason: 'old', suspendedAt: new Date('2026-03-01T00:00:00Z') })],
  ])('is what the aggregate gives for %s', (_, record) => {
    expect(toView(asViewRead(record))).toEqual(toUserView(toState(record)));
    expect(JSON.stringify(toView(asViewRead(record)))).toBe(JSON.stringify(toUserView(toState(record))));
  });
});

it('VIEW_COLUMNS reads every timestamp of USER_COLUMNS as text, and nothing else differs', () => {
  expect(VIEW_COLUMNS.match(/::text/g)).toHaveLength(7);
  expect(VIEW_COLUMNS.replaceAll('::text', '')).toBe(USER_COLUMNS);
});
