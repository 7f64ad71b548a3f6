import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AuthedRequest } from '../common/auth.guard';
import { Actor } from '../common/token-verifier';
import { AuditContext } from './domain/audit';

/** The audit label of a caller: `user:<sub>`, `admin:<sub>`, or `service` for the internal token. */
export function auditContextOf(actor: Actor, traceId: string | null): AuditContext {
  const label = actor.kind === 'internal' ? 'service' : `${actor.admin ? 'admin' : 'user'}:${actor.sub}`;
  return { actor: label, traceId };
}

/**
 * Who is changing a user and the request's trace id, handed from the controller through the command to the
 * repository, which writes them with the change (no AsyncLocalStorage: it costs every request on Node 20).
 */
export const CurrentAudit = createParamDecorator((_: unknown, context: ExecutionContext): AuditContext => {
  const request = context.switchToHttp().getRequest<AuthedRequest>();
  return auditContextOf(request.actor!, String(request.id));
});
