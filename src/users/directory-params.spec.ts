import { ValidationFailed } from '../common/domain-error';
import { parseDirectoryParams } from './directory-params';

const fieldsOf = (query: Record<string, unknown>) => {
  try {
    parseDirectoryParams(query);
    return [];
  } catch (error) {
    return (error as ValidationFailed).details!.map((detail) => detail.field);
  }
};

describe('parseDirectoryParams', () => {
  it('defaults to active users, newest first, 20 a page', () => {
    expect(parseDirectoryParams({})).toEqual({ filters: { status: 'active' }, sort: '-createdAt', limit: 20, includeTotal: false });
  });

  it('normalises what it keeps: trimmed q, lower-cased email and ids, a canonical language, parsed dates', () => {
    const id = '7014ED6A-0226-41C1-A5B5-3338432C0230';
    const { filters, limit } = parseDirectoryParams({
      q: '  Ann S ',
      email: ' Ann@Example.COM',
      id: `${id}, ${id.toLowerCase()}`,
      language: 'pt-br',
      companyName: ' Acme ',
      createdFrom: '2026-01-31T10:30:00+01:00',
      updatedSince: '2026-01-01',
    });
    expect(filters).toEqual({
      status: 'active',
      q: 'Ann S',
      email: 'ann@example.com',
      ids: [id.toLowerCase()],
      companyName: 'Acme',
      language: 'pt-BR',
      createdFrom: new Date('2026-01-31T09:30:00Z'),
      updatedSince: new Date('2026-01-01T00:00:00Z'),
    });
    expect(limit).toBe(1); // a batch of ids fits one page unless a limit says otherwise
  });

  it('reads createdTo as a whole day when it is a date, as an instant otherwise', () => {
    expect(parseDirectoryParams({ createdTo: '2026-01-31' }).filters).toEqual({
      status: 'active',
      createdBefore: new Date('2026-02-01T00:00:00Z'),
    });
    expect(parseDirectoryParams({ createdTo: '2026-01-31T12:00:00Z' }).filters).toEqual({
      status: 'active',
      createdTo: new Date('2026-01-31T12:00:00Z'),
    });
  });

  it('names every parameter that is wrong', () => {
    expect(fieldsOf({ q: 'a', limit: '0', sort: 'name', status: 'x', include: 'all', other: '1' })).toEqual([
      'other',
      'status',
      'q',
      'sort',
      'limit',
      'include',
    ]);
    expect(fieldsOf({ q: ['ab', 'cd'] })).toEqual(['q']);
    expect(fieldsOf({ q: 'é'.repeat(100) })).toEqual([]);
    expect(fieldsOf({ q: 'é'.repeat(101) })).toEqual(['q']);
    for (const date of [
      '2026-02-29',
      '2026-13-01',
      '2026-01-01T24:00:00Z',
      '2026-01-01T10:00',
      '2026-1-1',
      'today',
      '2026-01-01T10:00:00+25:00',
    ]) {
      expect({ date, fields: fieldsOf({ createdFrom: date }) }).toEqual({ date, fields: ['createdFrom'] });
    }
    expect(fieldsOf({ createdFrom: '2024-02-29T23:59:59.999999Z' })).toEqual([]);
    expect(fieldsOf({ id: Array.from({ length: 101 }, () => '7014ed6a-0226-41c1-a5b5-3338432c0230').join(',') })).toEqual(['id']);
    expect(fieldsOf({ keycloakId: 'k'.repeat(256) })).toEqual(['keycloakId']);
  });
});
