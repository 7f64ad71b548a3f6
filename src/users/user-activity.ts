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
    const { action, message } = this.reflector.get<{ action: UserAction; message: string }>(ACTIVITY, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest<{ Params: { id?: string } }>>();
    return next.handle().pipe(
      tap((result) => {
        const view = result as { id?: string; version?: number } | undefined;
        request.log.info({ userId: view?.id ?? request.params.id, action, version: view?.version }, message);
      }),
    );
  }
}
