import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { authenticate, AuthedRequest } from './auth.guard';
import { DomainError } from './domain-error';
import { TokenVerifier } from './token-verifier';

/**
 * Requests per minute per caller: a person by the JWT's `sub`, anyone else (no or a bad token) by IP.
 * Runs before the AuthGuard, so floods of bad tokens are limited too. Other services are exempt.
 * Counts live in this process: with N instances a caller may get N times the limit.
 * Not registered at all when RATE_LIMIT_PER_MINUTE=0.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {
    super(options, storage, reflector);
    // RateLimit-Limit / -Remaining / -Reset, as in the IETF RateLimit header fields draft.
    this.headerPrefix = 'RateLimit';
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    if (request.headers['x-internal-token'] === undefined) return false;
    return (await authenticate(this.verifier, request).catch(() => null))?.kind === 'internal';
  }

  protected override async getTracker(request: AuthedRequest): Promise<string> {
    const actor = await authenticate(this.verifier, request).catch(() => null);
    return actor?.sub ? `sub:${actor.sub}` : `ip:${request.ip}`;
  }

  /** One budget per caller across all routes (the default keys by route). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttler: string): string {
    return `${throttler}:${tracker}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new DomainError('RATE_LIMITED', `Too many requests: at most ${detail.limit} a minute; retry in ${detail.timeToBlockExpire} s`);
  }
}
