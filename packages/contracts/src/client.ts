import createClient, { Client, ClientOptions } from 'openapi-fetch';
import type { paths } from './generated/openapi';

/** openapi-fetch's client over openapi.json's paths: `GET`, `POST`… take a path and return `{ data, error, response }`. */
export type UserServiceClient = Client<paths>;

/** A JWT as the API gateway forwards it; a function is called before each request (to refresh the token). */
export type BearerToken = string | (() => string | Promise<string>);

export type UserServiceClientOptions = Omit<ClientOptions, 'baseUrl'> & {
  /** Where the service answers, e.g. http://user-service:3003 (the paths start with /api/v1). */
  baseUrl: string;
} & ({ token: BearerToken; internalToken?: never } | { internalToken: string; token?: never });

/**
 * A typed client of user-service, authenticated as a person (`token`: Authorization: Bearer) or as another
 * service (`internalToken`: X-Internal-Token, INTERNAL_API_TOKEN). Errors come back as the service's
 * ErrorResponse, in `error`.
 */
export function createUserServiceClient(options: UserServiceClientOptions): UserServiceClient {
  const { token, internalToken, ...clientOptions } = options;
  if ((token === undefined) === (internalToken === undefined)) {
    throw new Error('createUserServiceClient takes either a token or an internalToken');
  }
  const client = createClient<paths>(clientOptions);
  client.use({
    async onRequest({ request }) {
      if (internalToken !== undefined) request.headers.set('X-Internal-Token', internalToken);
      else request.headers.set('Authorization', `Bearer ${typeof token === 'function' ? await token() : token}`);
      return request;
    },
  });
  return client;
}
