import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AccessDenied, Unauthenticated } from './domain-error';
import { ApiNoSecurity } from './openapi';
import { Actor, TokenVerifier } from './token-verifier';

const PUBLIC = 'auth:public';
const ONLY_FOR = 'auth:only-for';

/** Callers a route may be restricted to: admins (the AUTH_ADMIN_ROLE realm role) and other services (internal token). */
type Privileged = 'admin' | 'internal';

/** Health, metrics and the embedded store's avatar files: no token (and `security: []` in the OpenAPI document). Everything else needs one. */
export const Public = () => applyDecorators(SetMetadata(PUBLIC, true), ApiNoSecurity());
/** Endpoints only other services may call (user tokens, even admin ones, get 403). */
export const InternalOnly = () => SetMetadata(ONLY_FOR, ['internal']);
/** Endpoints only admins may call (other people and the internal token get 403, whatever the user). */
export const AdminOnly = () => SetMetadata(ONLY_FOR, ['admin']);
/** Endpoints for admins and other services: a person's token gets 403, even on their own record. */
export const AdminOrInternal = () => SetMetadata(ONLY_FOR, ['admin', 'internal']);

export type AuthedRequest = FastifyRequest & { actor?: Actor; authentication?: Promise<Actor> };

export const CurrentActor = createParamDecorator(
  (_: unknown, context: ExecutionContext): Actor => context.switchToHttp().getRequest<AuthedRequest>().actor!,
);

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rules = this.rulesFor(context);
    if (rules.public) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const actor = (request.actor = await authenticate(this.verifier, request));
    const kind: Privileged | null = actor.kind === 'internal' ? 'internal' : actor.admin ? 'admin' : null;
    if (rules.onlyFor && !(kind && rules.onlyFor.includes(kind))) {
      throw new AccessDenied(
        `This endpoint is for ${rules.onlyFor.map((k) => (k === 'admin' ? 'admins' : 'internal services')).join(' and ')} only`,
      );
    }
    return true;
  }

  /** Route metadata never changes, so it is read once per handler rather than on every request. */
  private readonly rules = new WeakMap<object, { public: boolean; onlyFor: Privileged[] | null }>();

  private rulesFor(context: ExecutionContext): { public: boolean; onlyFor: Privileged[] | null } {
    const handler = context.getHandler();
    let rules = this.rules.get(handler);
    if (!rules) {
      const targets = [handler, context.getClass()];
      rules = {
        public: this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) ?? false,
        onlyFor: this.reflector.getAllAndOverride<Privileged[]>(ONLY_FOR, targets) ?? null,
      };
      this.rules.set(handler, rules);
    }
    return rules;
  }
}

/**
 * Who is calling, from X-Internal-Token or a bearer JWT. The outcome, a failure too, is remembered on the
 * request: the rate limiter asks first (leniently) and the AuthGuard after it, and a bad token is checked once.
 */
export function authenticate(verifier: TokenVerifier, request: AuthedRequest): Promise<Actor> {
  return (request.authentication ??= identify(verifier, request));
}

async function identify(verifier: TokenVerifier, request: AuthedRequest): Promise<Actor> {
  const internal = request.headers['x-internal-token'];
  if (internal !== undefined) {
    if (typeof internal === 'string' && verifier.isInternalToken(internal))
      return { kind: 'internal', sub: null, email: null, admin: false };
    throw new Unauthenticated('Internal token is invalid');
  }
  const header = request.headers.authorization;
  const match = header ? /^Bearer ([^\s]+)$/i.exec(header) : null;
  if (!match) throw new Unauthenticated('A bearer token is required');
  return verifier.verifyBearer(match[1]);
}

/** A person may touch only their own record; admins and internal services may touch any. */
export function canAccess(actor: Actor, keycloakId: string): boolean {
  return actor.kind === 'internal' || actor.admin || actor.sub === keycloakId;
}

/** A person may look up only their own address (their token's `email` claim); admins and internal services any. */
export function canLookUpEmail(actor: Actor, email: string): boolean {
  return actor.kind === 'internal' || actor.admin || actor.email === email;
}

export function assertCanAccess(actor: Actor, keycloakId: string): void {
  if (!canAccess(actor, keycloakId)) throw new AccessDenied();
}
