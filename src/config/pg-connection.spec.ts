import { pgClientConfig } from './pg-connection';

describe('pgClientConfig', () => {
  it('sets the search_path of every connection to the schema, then public', () => {
    expect(pgClientConfig({ url: 'postgres://u@h/n' }, 'user_service')).toEqual({
      connectionString: 'postgres://u@h/n',
      options: '-c search_path=user_service,public',
    });
    expect(pgClientConfig({ url: 'postgres://u@h/n' }, 'public').options).toBe('-c search_path=public');
    expect(pgClientConfig({ host: 'h', port: 6432, database: 'n', user: 'u', password: null }, 'tenant')).toEqual({
      host: 'h',
      port: 6432,
      database: 'n',
      user: 'u',
      password: undefined,
      options: '-c search_path=tenant,public',
    });
  });

  it("keeps the URL's own options (pg would let them replace ours)", () => {
    const config = pgClientConfig({ url: 'postgres://u@h/n?options=-c%20statement_timeout%3D5s&sslmode=disable' }, 'tenant');
    expect(config).toEqual({
      connectionString: 'postgres://u@h/n?sslmode=disable',
      options: '-c statement_timeout=5s -c search_path=tenant,public',
    });
  });
});
