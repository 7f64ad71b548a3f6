import { createHmac, randomBytes } from 'node:crypto';
import { cursorFingerprint, InvalidCursor, openCursor, sealCursor } from './directory-cursor';

describe('directory cursors', () => {
  const key = randomBytes(32);
  const id = '7014ed6a-0226-41c1-a5b5-3338432c0230';
  const at = '2026-01-31T10:30:00.123456Z';
  const fingerprint = cursorFingerprint({ status: 'active', q: 'ann' }, '-createdAt');

  it('gives back the position it sealed', () => {
    const cursor = sealCursor(key, { sortKey: at, id }, fingerprint);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(openCursor(key, cursor, fingerprint, '-createdAt')).toEqual({ sortKey: at, id });
    const snapshot = { xids: '100:105:101,103', takenAt: at };
    const named = cursorFingerprint({ status: 'active' }, 'fullName');
    expect(openCursor(key, sealCursor(key, { sortKey: 'émile', id, snapshot }, named), named, 'fullName')).toEqual({
      sortKey: 'émile',
      id,
      snapshot,
    });
  });

  it('binds a cursor to its filters and sort, lists compared as sets', () => {
    expect(cursorFingerprint({ status: 'active', ids: ['b', 'a'] }, 'createdAt')).toBe(
      cursorFingerprint({ status: 'active', ids: ['a', 'b'] }, 'createdAt'),
    );
    expect(cursorFingerprint({ status: 'active', companyName: 'ACME' }, 'createdAt')).toBe(
      cursorFingerprint({ status: 'active', companyName: 'acme' }, 'createdAt'),
    );
    expect(cursorFingerprint({ status: 'active' }, 'createdAt')).not.toBe(cursorFingerprint({ status: 'active' }, '-createdAt'));
    expect(cursorFingerprint({ status: 'active' }, 'createdAt')).not.toBe(cursorFingerprint({ status: 'deleted' }, 'createdAt'));
    const cursor = sealCursor(key, { sortKey: at, id }, fingerprint);
    expect(() => openCursor(key, cursor, cursorFingerprint({ status: 'active', q: 'bob' }, '-createdAt'), '-createdAt')).toThrow(
      'other filters',
    );
  });

  it('refuses altered, foreign and malformed cursors with INVALID_CURSOR', () => {
    const cursor = sealCursor(key, { sortKey: at, id }, fingerprint);
    const [body, mac] = cursor.split('.');
    // Signed with the right key, as if it had leaked: the shape checks still hold.
    const forge = (payload: unknown) => {
      const text = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${text}.${createHmac('sha256', key).update(text).digest().subarray(0, 16).toString('base64url')}`;
    };
    const bad = [
      '',
      'garbage',
      `${body}.${mac.slice(1)}A`,
      `${body.slice(0, -2)}AA.${mac}`,
      sealCursor(randomBytes(32), { sortKey: at, id }, fingerprint),
      forge(null),
      forge({ v: 1, f: fingerprint, k: at, i: "1'; DROP TABLE users; --" }),
      forge({ v: 1, f: fingerprint, k: [at], i: id }),
      forge({ v: 1, f: fingerprint, k: 'yesterday', i: id }),
      forge({ v: 2, f: fingerprint, k: at, i: id }),
      forge({ v: 1, f: fingerprint, k: at, i: id, x: '1:2:' }),
    ];
    for (const text of bad) {
      expect(() => openCursor(key, text, fingerprint, '-createdAt')).toThrow(InvalidCursor);
    }
    const named = cursorFingerprint({ status: 'active' }, 'fullName');
    const forgeNamed = (payload: object) => forge({ v: 1, f: named, i: id, k: 'ann', ...payload });
    for (const text of [
      forgeNamed({}),
      forgeNamed({ x: '1:2:3', t: at, k: 1 }),
      forgeNamed({ x: "1:2:3'", t: at }),
      forgeNamed({ x: '1:2:', t: 'now' }),
    ]) {
      expect(() => openCursor(key, text, named, 'fullName')).toThrow(InvalidCursor);
    }
    expect(openCursor(key, forgeNamed({ x: '1:2:', t: at }), named, 'fullName')).toEqual({
      sortKey: 'ann',
      id,
      snapshot: { xids: '1:2:', takenAt: at },
    });
  });
});
