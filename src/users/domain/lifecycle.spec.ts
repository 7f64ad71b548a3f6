import { DomainError, ValidationFailed } from '../../common/domain-error';
import { PERSONAL_FIELDS } from './audit';
import { UserStatus } from './lifecycle';
import { User } from './user';

const T0 = new Date('2026-03-01T10:00:00Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const DAY = 24 * 60 * 60 * 1000;

/** A user brought into `status` at T0, with nothing pending. */
function userIn(status: UserStatus, options: { hold?: boolean; until?: Date | null } = {}): User {
  const user = User.create(
    { keycloakId: 'kc-life', email: 'life@example.com', profile: { fullName: 'Liv Cycle', phone: '+1 555 0101' } },
    T0,
  );
  if (options.hold) user.placeLegalHold('litigation', T0);
  if (status === 'suspended') user.suspend('spam', options.until ?? null, T0);
  if (status === 'deleted') user.delete(T0);
  if (status === 'erased') user.erase(T0);
  user.pullAudit();
  user.pullEvents();
  return user;
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

const STATES: UserStatus[] = ['active', 'suspended', 'deleted', 'erased'];
type Step = (user: User) => unknown;
const TRANSITIONS: Record<string, { step: Step; from: UserStatus[]; to: UserStatus; event: string }> = {
  suspend: { step: (u) => u.suspend('spam', later(DAY), later(1)), from: ['active'], to: 'suspended', event: 'user.suspended' },
  reactivate: { step: (u) => u.reactivate(later(1)), from: ['suspended'], to: 'active', event: 'user.reactivated' },
  delete: { step: (u) => u.delete(later(1)), from: ['active', 'suspended'], to: 'deleted', event: 'user.deleted' },
  restore: { step: (u) => u.restore(30, later(DAY)), from: ['deleted'], to: 'active', event: 'user.restored' },
  erase: { step: (u) => u.erase(later(1)), from: ['active', 'suspended', 'deleted'], to: 'erased', event: 'user.erased' },
};

describe('User lifecycle', () => {
  describe.each(Object.entries(TRANSITIONS))('%s', (_name, { step, from, to, event }) => {
    it.each(STATES)(`from %s`, (status) => {
      const user = userIn(status);
      const version = user.version;
      if (!from.includes(status)) {
        expect(codeOf(() => step(user))).toBe('INVALID_STATE_TRANSITION');
        expect(user.snapshot().status).toBe(status);
        expect(user.version).toBe(version);
        expect(user.pullEvents()).toEqual([]);
        return;
      }
      step(user);
      expect(user.snapshot().status).toBe(to);
      expect(user.version).toBe(version + 1);
      expect(user.pullEvents().map((e) => e.eventType)).toContain(event);
    });
  });

  it('suspend records the reason and until; until must lie ahead and the reason be 1-500 characters', () => {
    const user = userIn('active');
    const fields = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as ValidationFailed).details?.map((d) => d.field);
      }
    };
    expect(fields(() => user.suspend('spam', T0, T0))).toEqual(['until']);
    expect(fields(() => user.suspend('spam', later(-DAY), T0))).toEqual(['until']);
    expect(fields(() => user.suspend('   ', null, T0))).toEqual(['reason']);
    expect(fields(() => user.suspend('x'.repeat(501), null, T0))).toEqual(['reason']);
    expect(user.snapshot().status).toBe('active');

    user.suspend(' spam ', later(DAY), T0);
    expect(user.suspension).toEqual({ reason: 'spam', since: T0, until: later(DAY) });
    expect(user.pullEvents()[0]).toMatchObject({ eventType: 'user.suspended', data: { reason: 'spam', until: later(DAY).toISOString() } });
  });

  it('a suspension without until lasts until reactivated', () => {
    const user = userIn('active');
    user.suspend('fraud check', null, T0);
    expect(user.pullEvents()[0].data).toEqual({ reason: 'fraud check', until: null });
    expect(user.expireSuspension(later(365 * DAY))).toBe(false);
    user.reactivate(later(1));
    expect(user.suspension).toBeNull();
    expect(user.pullEvents()[0].data).toEqual({ expired: false });
  });

  it('expireSuspension ends a suspension once its until has passed, and only then', () => {
    const user = userIn('suspended', { until: later(DAY) });
    expect(user.expireSuspension(later(DAY - 1))).toBe(false);
    expect(user.changed).toBe(false);
    expect(user.expireSuspension(later(DAY))).toBe(true);
    expect(user.snapshot().status).toBe('active');
    expect(user.pullEvents().map((e) => [e.eventType, e.data])).toEqual([['user.reactivated', { expired: true }]]);
    expect(user.expireSuspension(later(2 * DAY))).toBe(false);
    for (const status of ['active', 'deleted'] as const) expect(userIn(status).expireSuspension(later(DAY))).toBe(false);
  });

  it('restore works within the grace window only, and brings a suspended user back suspended', () => {
    expect(codeOf(() => userIn('deleted').restore(30, later(30 * DAY + 1)))).toBe('GRACE_PERIOD_EXPIRED');
    const inWindow = userIn('deleted');
    inWindow.restore(30, later(30 * DAY));
    expect(inWindow.snapshot()).toMatchObject({ status: 'active', deletedAt: null });
    expect(inWindow.pullEvents()[0].data).toEqual({ keycloakId: 'kc-life', status: 'active' });

    const wasSuspended = userIn('suspended', { until: later(DAY) });
    wasSuspended.delete(later(1));
    wasSuspended.restore(30, later(2));
    expect(wasSuspended.snapshot().status).toBe('suspended');
    expect(wasSuspended.suspension?.reason).toBe('spam');
  });

  it('erasing an active user deletes it first: user.deleted, then user.erased {userId}, and no personal datum is left', () => {
    const user = userIn('active');
    user.replaceAvatar({ url: 'https://cdn/u/a/256.jpg', keys: ['users/u/a/256.jpg'], fileSize: 1, variants: [] }, T0);
    user.pullEvents();
    user.erase(later(1));
    const [deleted, erased] = user.pullEvents();
    expect(deleted.eventType).toBe('user.deleted');
    expect(erased).toMatchObject({ eventType: 'user.erased', userId: user.id, data: { userId: user.id } });
    const state = user.snapshot();
    expect(state).toMatchObject({ status: 'erased', erasedAt: later(1), keycloakId: '', email: '', avatarKeys: [], suspension: null });
    expect(state.profile.fields()).toEqual({ fullName: '', companyName: null, phone: null, bio: null });
    expect(state.profile.avatarUrl).toBeNull();
    expect(user.pullAudit()).toEqual([{ action: 'erased', at: later(1), changes: [] }]);
  });

  it.each(['active', 'suspended', 'deleted'] as const)('a legal hold blocks erasure of a %s user until released', (status) => {
    const user = userIn(status, { hold: true });
    expect(codeOf(() => user.erase(later(1)))).toBe('LEGAL_HOLD');
    expect(user.snapshot().status).toBe(status);
    expect(user.pullEvents()).toEqual([]);
    expect(user.releaseLegalHold(later(2))).toBe(true);
    user.erase(later(3));
    expect(user.snapshot().status).toBe('erased');
  });

  it('legal holds publish nothing, keep their first time when re-worded, and cannot touch an erased user', () => {
    const user = userIn('active');
    expect(user.placeLegalHold('case 1', T0)).toBe(true);
    expect(user.placeLegalHold('case 1', later(1))).toBe(false);
    expect(user.placeLegalHold('case 1 and 2', later(2))).toBe(true);
    expect(user.legalHold).toEqual({ reason: 'case 1 and 2', since: T0 });
    expect(user.pullEvents()).toEqual([]);
    expect(user.pullAudit().map((r) => r.action)).toEqual(['legal_hold.placed']);
    expect(user.releaseLegalHold(later(3))).toBe(true);
    expect(user.releaseLegalHold(later(4))).toBe(false);
    const erased = userIn('erased');
    expect(codeOf(() => erased.placeLegalHold('late', later(1)))).toBe('INVALID_STATE_TRANSITION');
    expect(codeOf(() => erased.releaseLegalHold(later(1)))).toBe('INVALID_STATE_TRANSITION');
  });
});

describe('User audit records', () => {
  const values = (user: User) => JSON.stringify(user.pullAudit());

  it('name personal fields without their values, and give old and new values for the others', () => {
    const user = User.create({ keycloakId: 'kc-secret', email: 'secret@example.com', profile: { fullName: 'Sec Ret', bio: 'my bio' } }, T0);
    const [created] = user.pullAudit();
    expect(created.action).toBe('created');
    expect(created.changes).toEqual(
      expect.arrayContaining([{ field: 'email' }, { field: 'keycloakId' }, { field: 'profile.fullName' }, { field: 'profile.bio' }]),
    );
    expect(created.changes).toContainEqual({ field: 'status', new: 'active' });

    user.updateProfile({ phone: '+49 30 123', companyName: 'Acme', bio: null }, later(1));
    user.updatePreferences({ language: 'de-DE' }, later(1));
    const [profile, preferences] = user.pullAudit();
    expect(profile).toEqual({
      action: 'profile.updated',
      at: later(1),
      changes: [{ field: 'profile.companyName' }, { field: 'profile.phone' }, { field: 'profile.bio' }],
    });
    expect(preferences.changes).toEqual([{ field: 'preferences.language', old: 'en', new: 'de-DE' }]);
    for (const field of PERSONAL_FIELDS)
      expect(created.changes.find((c) => c.field === field && ('old' in c || 'new' in c))).toBeUndefined();

    user.suspend('spam', null, later(2));
    user.delete(later(3));
    const text = values(user);
    for (const secret of ['kc-secret', 'secret@example.com', 'Sec Ret', 'my bio', '+49 30 123', 'Acme']) expect(text).not.toContain(secret);
  });

  it('fold a run of usage changes into one entry: first old, last new', () => {
    const user = userIn('active');
    user.recordInterviewCreated(later(1));
    user.recordInterviewCreated(later(2));
    user.recordStorageAdded(100n, later(3));
    user.recordInterviewClosed(later(4));
    user.recordInterviewClosed(later(5));
    const records = user.pullAudit();
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({
      action: 'usage.recorded',
      at: later(1),
      changes: [
        { field: 'stats.interviewsCreated', old: 0, new: 2 },
        { field: 'stats.storageUsed', old: 0, new: 100 },
      ],
    });
  });
});
