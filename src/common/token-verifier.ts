import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify, JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../config/config';
import { normaliseEmail } from '../users/domain/user';
import { Unauthenticated } from './domain-error';

/** Who is calling: a person through the gateway (JWT) or another service (internal token). */
export interface Actor {
  kind: 'user' | 'internal';
  /** Keycloak id of the person; null for internal callers. */
  sub: string | null;
  /** The person's address from the token's `email` claim (Keycloak puts it in access tokens), normalised as on create; null if absent. */
  email: string | null;
  admin: boolean;
}

interface Cached {
  actor: Actor;
  expiresAt: number;
}

const CACHE_LIMIT = 10_000;

/**
 * Verifies bearer JWTs (HS256 with a shared secret, RS256/ES256 through a JWKS URL) and the internal token.
 * A verified token is remembered until it expires: the gateway sends the same token many times,
 * and its signature cannot change.
 */
@Injectable()
export class TokenVerifier {
  private readonly secret: Uint8Array | null;
  private readonly jwks: JWTVerifyGetKey | null;
  private readonly algorithms: string[];
  private readonly internalDigest: Buffer | null;
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly config: AppConfig) {
    const { auth } = config;
    this.secret = auth.jwtSecret ? new TextEncoder().encode(auth.jwtSecret) : null;
    this.jwks = auth.jwksUri ? createRemoteJWKSet(new URL(auth.jwksUri), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 }) : null;
    this.algorithms = [...(this.secret ? ['HS256'] : []), ...(this.jwks ? ['RS256', 'ES256'] : [])];
    this.internalDigest = auth.internalToken ? digest(auth.internalToken) : null;
  }

  isInternalToken(token: string): boolean {
    return this.internalDigest !== null && timingSafeEqual(digest(token), this.internalDigest);
  }

  async verifyBearer(token: string): Promise<Actor> {
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.expiresAt > now) return cached.actor;

    const payload = await this.verify(token);
    const actor: Actor = {
      kind: 'user',
      sub: subjectOf(payload),
      email: emailOf(payload),
      admin: rolesOf(payload).includes(this.config.auth.adminRole),
    };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, { actor, expiresAt: payload.exp! * 1000 });
    return actor;
  }

  private async verify(token: string): Promise<JWTPayload> {
    const { issuer, audience } = this.config.auth;
    try {
      const { payload } = await jwtVerify(token, this.keyFor, {
        algorithms: this.algorithms,
        issuer: issuer ?? undefined,
        audience: audience ?? undefined,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 5,
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new Unauthenticated('Token has expired');
      if (error instanceof errors.JWTClaimValidationFailed) throw new Unauthenticated(`Token rejected: ${error.message}`);
      if (error instanceof errors.JOSEError) throw new Unauthenticated('Token is invalid');
      throw error;
    }
  }

  private readonly keyFor: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256' && this.secret) return this.secret;
    if (this.jwks) return this.jwks(header, token);
    throw new errors.JOSEAlgNotAllowed('algorithm not allowed');
  };
}

/**
 * jose checks the signature and that `sub` is present, not its type: a signed token with an object or a number
 * there must not become a person whose id is "[object Object]" or 42.
 */
function subjectOf(payload: JWTPayload): string {
  const sub: unknown = payload.sub;
  if (typeof sub !== 'string' || sub.trim() === '') throw new Unauthenticated('Token rejected: sub must be a non-empty string');
  return sub;
}

/** Optional; when present it must be a non-empty string, like `sub`. */
function emailOf(payload: JWTPayload): string | null {
  const email: unknown = payload.email;
  if (email === undefined) return null;
  if (typeof email !== 'string' || email.trim() === '') throw new Unauthenticated('Token rejected: email must be a non-empty string');
  return normaliseEmail(email);
}

/** Keycloak's realm roles; absent means none, anything but a list of strings is a malformed token. */
function rolesOf(payload: JWTPayload): string[] {
  const realmAccess: unknown = payload.realm_access ?? {};
  const isObject = typeof realmAccess === 'object' && realmAccess !== null && !Array.isArray(realmAccess);
  const roles: unknown = isObject ? ((realmAccess as { roles?: unknown }).roles ?? []) : null;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
    throw new Unauthenticated('Token rejected: realm_access.roles must be a list of strings');
  }
  return roles;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
