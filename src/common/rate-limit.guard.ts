import { CanActivate, ExecutionContext, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { AppConfig } from '../config/config';
import { authenticate, AuthedRequest } from './auth.guard';
import { DomainError } from './domain-error';
import { TokenVerifier } from './token-verifier';

/** @SkipThrottle() (from @nestjs/throttler) on the operations endpoints. */
const SKIP = 'THROTTLER:SKIPdefault';
const WINDOW_MS = 60_000;

/** One caller's requests in the sliding minute: their expiry times, oldest first, from `head` on. */
interface Hits {
  expiries: number[];
  head: number;
  /** End of the window that RateLimit-Reset counts down to (restarted once it has passed). */
  resetAt: number;
}

/**
 * Requests per minute per caller: a person by the JWT's `sub`, anyone else (no or a bad token) by IP.
 * Runs before the AuthGuard, so floods of bad tokens are limited too. Other services are exempt.
 * Counts live in this process: with N instances a caller may get N times the limit.
 * Not registered at all when RATE_LIMIT_PER_MINUTE=0.
 *
 * The same sliding window and headers as @nestjs/throttler's guard and in-memory storage (blockDuration 0), which
 * re-filtered every hit of the caller's minute on each request and read five route options through the Reflector:
 * here expired hits leave from the front of a queue and the skip flag is read once per route.
 */
@Injectable()
export class RateLimitGuard implements CanActivate, OnApplicationShutdown {
  private readonly limit: number;
  private readonly callers = new Map<string, Hits>();
  private readonly skips = new WeakMap<object, boolean>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {
    this.limit = Math.max(config.rateLimitPerMinute, 1);
    // Callers quiet for a whole window are forgotten.
    this.sweep = setInterval(() => this.forgetIdle(Date.now()), WINDOW_MS).unref();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.skipped(context)) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const actor = await authenticate(this.verifier, request).catch(() => null);
    if (actor?.kind === 'internal') return true;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const now = Date.now();
    const hits = this.hitsOf(actor?.sub ? `sub:${actor.sub}` : `ip:${request.ip}`, now);
    const used = hits.expiries.length - hits.head;
    if (used >= this.limit) {
      const retryAfter = Math.ceil((hits.expiries[hits.head] - now) / 1000);
      void reply.header('Retry-After', retryAfter);
      throw new DomainError('RATE_LIMITED', `Too many requests: at most ${this.limit} a minute; retry in ${retryAfter} s`);
    }
    hits.expiries.push(now + WINDOW_MS);
    void reply
      .header('RateLimit-Limit', this.limit)
      .header('RateLimit-Remaining', Math.max(0, this.limit - used - 1))
      .header('RateLimit-Reset', Math.ceil((hits.resetAt - now) / 1000));
    return true;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweep);
  }

  private hitsOf(key: string, now: number): Hits {
    let hits = this.callers.get(key);
    if (!hits) this.callers.set(key, (hits = { expiries: [], head: 0, resetAt: now + WINDOW_MS }));
    while (hits.head < hits.expiries.length && hits.expiries[hits.head] <= now) hits.head++;
    if (hits.head > 1024 && hits.head * 2 > hits.expiries.length) {
      hits.expiries = hits.expiries.slice(hits.head);
      hits.head = 0;
    }
    if (hits.resetAt <= now) hits.resetAt = now + WINDOW_MS;
    return hits;
  }

  private forgetIdle(now: number): void {
    for (const [key, hits] of this.callers) {
      if (hits.expiries.length === 0 || hits.expiries[hits.expiries.length - 1] <= now) this.callers.delete(key);
    }
  }

  private skipped(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let skip = this.skips.get(handler);
    if (skip === undefined) {
      skip = this.reflector.getAllAndOverride<boolean>(SKIP, [handler, context.getClass()]) ?? false;
      this.skips.set(handler, skip);
    }
    return skip;
  }
}
