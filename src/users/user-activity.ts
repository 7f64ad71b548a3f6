import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Observable, tap } from 'rxjs';

export type UserAction =
  | 'user_create'
  | 'user_update'
  | 'user_delete'
  | 'preferences_update'
  | 'user_suspend'
  | 'user_reactivate'
  | 'user_restore'
  | 'user_erase'
  | 'legal_hold_place'
  | 'legal_hold_release';

const ACTIVITY = 'users:activity';

export interface Activity {
  action: UserAction;
  message: string;
}

/** What a route marked with RecordsActivity logs, or undefined for other routes. */
export function activityOf(reflector: Reflector, handler: object): Activity | undefined {
  return reflector.get<Activity | undefined>(ACTIVITY, handler as () => unknown);
}

/** The activity line of a successful change (the result is the view, when the route answers one). */
export function logActivity(request: FastifyRequest, { action, message }: Activity, result: unknown): void {
  const view = result as { id?: string; version?: number } | undefined;
  const params = request.params as { id?: string } | undefined;
  request.log.info({ userId: view?.id ?? params?.id, action, version: view?.version }, message);
}

/**
 * Marks a route that changes a user: once it succeeds, one log line
 * `{userId, action, version, message}` on the request's logger, which carries the traceId.
 * Only ids, never what people typed.
 */
export const RecordsActivity = (action: UserAction, message: string) =>
  applyDecorators(SetMetadata(ACTIVITY, { action, message }), UseInterceptors(UserActivityLog));

/**
 * Logged at the HTTP edge, where the request (and so the traceId) is at hand without
 * AsyncLocalStorage, which costs every request on Node 20. A PATCH that changed nothing is logged
 * too: the unchanged `version` shows it.
 */
@Injectable()
export class UserActivityLog implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const activity = activityOf(this.reflector, context.getHandler())!;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return next.handle().pipe(tap((result) => logActivity(request, activity, result)));
  }
}
