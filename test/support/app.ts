import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignJWT } from 'jose';
import { AppOptions, createApp } from '../../src/app';
import { AppConfig, loadConfig } from '../../src/config/config';
import { TEST_DATABASE_URL } from './database';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const INTERNAL_TOKEN = 'internal-token-for-tests-0123456789';

export function testConfig(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_MIGRATIONS_RUN: 'false',
    AUTH_JWT_SECRET: TEST_SECRET,
    INTERNAL_API_TOKEN: INTERNAL_TOKEN,
    // The lifecycle jobs run when a test says so (or sets an interval), not behind another test's back.
    LIFECYCLE_JOB_INTERVAL_MS: '0',
    ...env,
  });
}

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  close(): Promise<void>;
}

/** The real service on an ephemeral port, reached over HTTP. */
export async function startApp(config: AppConfig = testConfig(), options: AppOptions = {}): Promise<RunningApp> {
  const app = await createApp(config, options);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

interface TokenOptions {
  admin?: boolean;
  expiresIn?: string | number;
  secret?: string;
  claims?: Record<string, unknown>;
}

export function tokenFor(sub: string, options: TokenOptions = {}): Promise<string> {
  const claims = { ...(options.admin ? { realm_access: { roles: ['admin'] } } : {}), ...options.claims };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch with JSON in and out; `body` may be a raw string to send malformed input. */
export async function call<T = any>(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

let counter = 0;
/** A keycloak id and email no other test uses. */
export function uniqueIdentity(prefix = 'kc') {
  const n = `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return { keycloakId: `${prefix}-${n}`, email: `${prefix}-${n}@example.com` };
}

export interface CreatedUser {
  id: string;
  keycloakId: string;
  email: string;
  /** The user's own token (its `sub` is the keycloakId). */
  token: string;
  /** The 201 body. */
  user: any;
  etag: string;
}

/** A new user, created over HTTP with its own token; fails unless the service answers 201. */
export async function createUser(
  url: string,
  options: { prefix?: string; profile?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<CreatedUser> {
  const identity = uniqueIdentity(options.prefix);
  const token = await tokenFor(identity.keycloakId);
  const res = await call(url, 'POST', '/api/v1/users', {
    token,
    headers: options.headers,
    body: { ...identity, profile: { fullName: 'Test User', ...options.profile } },
  });
  if (res.status !== 201) throw new Error(`Creating a user answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { ...identity, id: res.body.id, token, user: res.body, etag: res.headers.get('etag')! };
}
