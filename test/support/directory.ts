import { randomUUID } from 'node:crypto';
import { ApiResponse, call, INTERNAL_TOKEN, uniqueIdentity } from './app';

export const INTERNAL = { 'x-internal-token': INTERNAL_TOKEN };

/** A company name no other test uses: the filter that scopes a test's assertions to its own users. */
export const uniqueCompany = (label = 'Co') => `${label} ${randomUUID().slice(0, 8)}`;

/** GET /api/v1/users with these parameters (as an admin unless told otherwise). */
export function listUsers(url: string, params: Record<string, string>, auth: { token?: string; headers?: Record<string, string> }) {
  return call(url, 'GET', `/api/v1/users?${new URLSearchParams(params).toString()}`, auth);
}

/** Creates a user through the API with the internal token; answers its view. */
export async function addUser(url: string, profile: { fullName: string; companyName?: string }, email?: string): Promise<any> {
  const identity = uniqueIdentity('dir');
  const res = await call(url, 'POST', '/api/v1/users', {
    headers: INTERNAL,
    body: { keycloakId: identity.keycloakId, email: email ?? identity.email, profile },
  });
  if (res.status !== 201) throw new Error(`Creating a user answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * Every page of a result, following the Link header from the first request's parameters; checks that the Link
 * and nextCursor agree and that the last page has neither. `between` runs after each page but the last.
 */
export async function walkPages(
  url: string,
  params: Record<string, string>,
  auth: { token?: string; headers?: Record<string, string> },
  between?: (page: number) => Promise<void>,
): Promise<{ users: any[]; pages: number }> {
  const users: any[] = [];
  let res: ApiResponse = await listUsers(url, params, auth);
  for (let page = 1; ; page++) {
    if (res.status !== 200) throw new Error(`page ${page} answered ${res.status}: ${JSON.stringify(res.body)}`);
    users.push(...res.body.data);
    const link = res.headers.get('link');
    if (res.body.nextCursor === null) {
      if (link !== null) throw new Error(`the last page has a Link header: ${link}`);
      return { users, pages: page };
    }
    const next = /^<([^>]+)>; rel="next"$/.exec(link ?? '');
    if (!next || new URL(next[1], url).searchParams.get('cursor') !== res.body.nextCursor) {
      throw new Error(`Link ${link} does not carry nextCursor ${res.body.nextCursor}`);
    }
    await between?.(page);
    res = await call(url, 'GET', next[1], auth);
  }
}
