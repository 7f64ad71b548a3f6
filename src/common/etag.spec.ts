import { assertVersion, matchesIfNoneMatch, parseIfMatch } from './etag';

describe('If-Match', () => {
  it('parses strong and weak tags, lists and the wildcard', () => {
    expect(parseIfMatch(undefined)).toBeNull();
    expect(parseIfMatch('*')).toBeNull();
    expect(parseIfMatch('"3"')).toEqual([3]);
    expect(parseIfMatch('W/"3", "4"')).toEqual([3, 4]);
    expect(parseIfMatch('abc')).toEqual([]);
  });

  it('accepts only a listed version', () => {
    expect(() => assertVersion(null, 5)).not.toThrow();
    expect(() => assertVersion([5], 5)).not.toThrow();
    expect(() => assertVersion([4], 5)).toThrow('current version 5');
    expect(() => assertVersion([], 5)).toThrow('current version 5');
  });

  it('matches If-None-Match', () => {
    expect(matchesIfNoneMatch('"2"', 2)).toBe(true);
    expect(matchesIfNoneMatch('W/"2"', 2)).toBe(true);
    expect(matchesIfNoneMatch('"1", "2"', 2)).toBe(true);
    expect(matchesIfNoneMatch('*', 2)).toBe(true);
    expect(matchesIfNoneMatch('"1"', 2)).toBe(false);
    expect(matchesIfNoneMatch(undefined, 2)).toBe(false);
  });
});
