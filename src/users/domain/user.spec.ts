import { ValidationFailed } from '../../common/domain-error';
import { Quota } from './quota';
import { User } from './user';

const newUser = () => User.create({ keycloakId: 'kc-1', email: '  Ann.Smith@Example.COM ', profile: { fullName: ' Ann Smith ' } });

function validationFields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationFailed) return (error.details ?? []).map((d) => d.field);
    throw error;
  }
  throw new Error('expected a ValidationFailed');
}

describe('User', () => {
  it('normalises the email, trims the name and records user.created', () => {
    const user = newUser();
    const state = user.snapshot();
    expect(state.email).toBe('ann.smith@example.com');
    expect(state.profile.fullName).toBe('Ann Smith');
    expect(state.version).toBe(1);
    expect(state.quota.maxInterviews).toBe(10);
    expect(state.quota.maxStorage).toBe(5368709120n);
    expect(state.preferences.toJSON()).toEqual({
      language: 'en',
      timezone: 'UTC',
      notifications: { email: true, productNews: false, interviewReminders: true },
    });
    const [event] = user.pullEvents();
    expect(event).toMatchObject({
      eventType: 'user.created',
      userId: user.id,
      data: { keycloakId: 'kc-1', email: 'ann.smith@example.com', fullName: 'Ann Smith' },
    });
    expect(user.pullEvents()).toEqual([]);
  });

  it('reports every invalid field at once', () => {
    const fields = validationFields(() =>
      User.create({ keycloakId: 'has space', email: 'not-an-email', profile: { fullName: 'A', phone: 'call me' } }),
    );
    expect(fields.sort()).toEqual(['email', 'keycloakId', 'profile.fullName', 'profile.phone']);
  });

  it('rejects over-long fields and control characters', () => {
    expect(validationFields(() => User.create({ keycloakId: 'k', email: 'a@b.co', profile: { fullName: 'x'.repeat(101) } }))).toEqual([
      'profile.fullName',
    ]);
    expect(validationFields(() => User.create({ keycloakId: 'k', email: 'a@b.co', profile: { fullName: 'Nul\u0000l' } }))).toEqual([
      'profile.fullName',
    ]);
    const user = newUser();
    expect(validationFields(() => user.updateProfile({ bio: 'b'.repeat(2001) }))).toEqual(['profile.bio']);
    expect(validationFields(() => user.updateProfile({ companyName: 'c'.repeat(101) }))).toEqual(['profile.companyName']);
    expect(user.updateProfile({ bio: 'line one\nline two' })).toBe(true);
  });

  it('merges a patch: absent stays, null clears, and only real changes bump the version', () => {
    const user = newUser();
    user.pullEvents();
    expect(user.updateProfile({ companyName: 'Acme', phone: '+1 555 0100' })).toBe(true);
    expect(user.version).toBe(2);
    expect(user.pullEvents()[0]).toMatchObject({
      eventType: 'user.updated',
      data: { changes: { companyName: 'Acme', phone: '+1 555 0100' } },
    });

    expect(user.updateProfile({ companyName: null })).toBe(true);
    expect(user.profile).toMatchObject({ fullName: 'Ann Smith', companyName: null, phone: '+1 555 0100' });
    expect(user.version).toBe(3);
    user.pullEvents();

    expect(user.updateProfile({ fullName: 'Ann Smith' })).toBe(false);
    expect(user.version).toBe(3);
    expect(user.pullEvents()).toEqual([]);
    expect(validationFields(() => user.updateProfile({ fullName: null }))).toEqual(['profile.fullName']);
  });

  it('replaces the whole profile, clearing what is left out', () => {
    const user = newUser();
    user.updateProfile({ companyName: 'Acme', bio: 'Hi' });
    user.pullEvents();
    user.replaceProfile({ fullName: 'Ann B. Smith', phone: '123456' });
    expect(user.profile.fields()).toEqual({ fullName: 'Ann B. Smith', companyName: null, phone: '123456', bio: null });
    expect(user.pullEvents()[0].data).toEqual({
      changes: { fullName: 'Ann B. Smith', companyName: null, phone: '123456', bio: null },
    });
  });

  it('soft-deletes and records the keycloak id with user.deleted', () => {
    const user = newUser();
    user.pullEvents();
    const at = new Date('2026-01-02T03:04:05Z');
    user.delete(at);
    expect(user.isDeleted).toBe(true);
    expect(user.snapshot().status).toBe('deleted');
    expect(user.pullEvents()[0]).toMatchObject({
      eventType: 'user.deleted',
      data: { deletedAt: '2026-01-02T03:04:05.000Z', keycloakId: 'kc-1' },
    });
  });
});

describe('Preferences', () => {
  it('canonicalises language tags and time zones and reports only the changes', () => {
    const user = newUser();
    user.pullEvents();
    expect(user.updatePreferences({ language: 'pt-br', timezone: 'europe/berlin', notifications: { productNews: true } })).toBe(true);
    expect(user.preferences.toJSON()).toEqual({
      language: 'pt-BR',
      timezone: 'Europe/Berlin',
      notifications: { email: true, productNews: true, interviewReminders: true },
    });
    expect(user.pullEvents()[0].data).toEqual({
      changes: { preferences: { language: 'pt-BR', timezone: 'Europe/Berlin', notifications: { productNews: true } } },
    });
    expect(user.updatePreferences({ language: 'pt-BR' })).toBe(false);
  });

  it('rejects malformed tags, unknown zones, offsets and unknown switches', () => {
    const user = newUser();
    expect(
      validationFields(() =>
        user.updatePreferences({ language: 'english!', timezone: 'Mars/Olympus', notifications: { sms: true } as never }),
      ),
    ).toEqual(['language', 'timezone', 'notifications.sms']);
    expect(validationFields(() => user.updatePreferences({ timezone: '+01:00' }))).toEqual(['timezone']);
    expect(validationFields(() => user.updatePreferences({ notifications: { email: 'yes' as never } }))).toEqual(['notifications.email']);
  });
});

describe('usage and quota thresholds', () => {
  const fresh = () => {
    const user = newUser();
    user.pullEvents();
    return user;
  };
  const thresholdEvents = (user: User) =>
    user
      .pullEvents()
      .filter((e) => e.eventType === 'user.quota_threshold_reached')
      .map((e) => e.data);

  it('bumps the version for stats changes without publishing user.updated', () => {
    const user = fresh();
    expect(user.recordCandidateAdded()).toBe(true);
    expect(user.recordStorageAdded(10n)).toBe(true);
    expect(user.version).toBe(2);
    expect(user.changed).toBe(true);
    expect(user.pullEvents()).toEqual([]);
    expect(user.changed).toBe(false);
    expect(user.recordInterviewClosed()).toBe(false);
    expect(user.changed).toBe(false);
  });

  it('publishes 80% and 100% once per crossing, again only after falling below', () => {
    const user = fresh();
    for (let i = 0; i < 7; i++) user.recordInterviewCreated();
    expect(thresholdEvents(user)).toEqual([]);
    user.recordInterviewCreated();
    expect(thresholdEvents(user)).toEqual([{ resource: 'interviews', threshold: 80, used: 8, limit: 10 }]);
    user.recordInterviewCreated();
    expect(thresholdEvents(user)).toEqual([]);
    user.recordInterviewCreated();
    expect(thresholdEvents(user)).toEqual([{ resource: 'interviews', threshold: 100, used: 10, limit: 10 }]);
    user.recordInterviewCreated();
    expect(thresholdEvents(user)).toEqual([]);
    user.recordInterviewClosed();
    user.recordInterviewClosed();
    expect(thresholdEvents(user)).toEqual([]);
    user.recordInterviewCreated();
    expect(thresholdEvents(user)).toEqual([{ resource: 'interviews', threshold: 100, used: 10, limit: 10 }]);
  });

  it('crosses both storage thresholds in one jump, and on a lowered limit', () => {
    const user = fresh();
    user.recordStorageAdded(6n * 1024n ** 3n);
    expect(thresholdEvents(user).map((d) => d.threshold)).toEqual([80, 100]);
    const other = fresh();
    other.recordStorageAdded(900n);
    expect(thresholdEvents(other)).toEqual([]);
    other.changeQuota(Quota.create({ maxInterviews: 10, maxStorage: 1000n }));
    expect(thresholdEvents(other)).toEqual([{ resource: 'storage', threshold: 80, used: 900, limit: 1000 }]);
  });

  describe('avatar', () => {
    const avatar = (hash: string) => ({
      url: `https://cdn.example.com/users/u/${hash}/256.jpg`,
      keys: [64, 256].map((size) => `users/u/${hash}/${size}.jpg`),
      fileSize: 1234,
      variants: [64, 256].map((size) => ({ size, url: `https://cdn.example.com/users/u/${hash}/${size}.jpg`, width: size, height: size })),
    });

    it('replaceAvatar sets it, records user.avatar_uploaded and returns the keys it replaced', () => {
      const user = newUser();
      user.pullEvents();
      expect(user.replaceAvatar(avatar('a'))).toEqual([]);
      expect(user.profile.avatarUrl).toBe(avatar('a').url);
      expect(user.avatarKeys).toEqual(avatar('a').keys);
      expect(user.version).toBe(2);
      const [event] = user.pullEvents();
      expect(event).toMatchObject({
        eventType: 'user.avatar_uploaded',
        data: { avatarUrl: avatar('a').url, fileSize: 1234, variants: avatar('a').variants },
      });

      expect(user.replaceAvatar(avatar('b'))).toEqual(avatar('a').keys);
      expect(user.version).toBe(3);
      user.pullEvents();
    });

    it('the same avatar again changes nothing and gives up no keys', () => {
      const user = newUser();
      user.pullEvents();
      user.replaceAvatar(avatar('a'));
      user.pullEvents();
      expect(user.replaceAvatar(avatar('a'))).toEqual([]);
      expect(user.changed).toBe(false);
      expect(user.pullEvents()).toEqual([]);
      expect(user.version).toBe(2);
    });

    it('removeAvatar clears it, records user.updated {avatarUrl: null} and returns its keys; again is a no-op', () => {
      const user = newUser();
      user.replaceAvatar(avatar('a'));
      user.pullEvents();
      expect(user.removeAvatar()).toEqual(avatar('a').keys);
      expect(user.profile.avatarUrl).toBeNull();
      expect(user.avatarKeys).toEqual([]);
      expect(user.pullEvents()).toEqual([expect.objectContaining({ eventType: 'user.updated', data: { changes: { avatarUrl: null } } })]);
      expect(user.removeAvatar()).toEqual([]);
      expect(user.changed).toBe(false);
    });

    it('profile changes keep the avatar', () => {
      const user = newUser();
      user.replaceAvatar(avatar('a'));
      user.updateProfile({ bio: 'hi' });
      user.replaceProfile({ fullName: 'Ann Other' });
      expect(user.profile.avatarUrl).toBe(avatar('a').url);
      expect(user.avatarKeys).toEqual(avatar('a').keys);
    });
  });
});
