import { CanActivate, ForbiddenException, PipeTransform, Type } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { AuthedRequest, AuthGuard } from '../common/auth.guard';
import { ErrorFilter } from '../common/error.filter';
import { RateLimitGuard } from '../common/rate-limit.guard';
import { uuidPipe } from '../common/uuid.pipe';
import { BodyValidationPipe } from '../common/validation';
import { AppConfig } from '../config/config';
import { auditContextOf } from './audit-context';
import { CreateUserDto, UpdateUserDto } from './dto';
import { CREATE_USER, Shape, UPDATE_USER, wellFormed } from './hot-bodies';
import { activityOf, logActivity, UserActivityLog } from './user-activity';
import { UsersController } from './users.controller';

/** How a hot route calls its controller method: the arguments Nest would resolve from its parameter decorators. */
type Call = (users: UsersController, request: AuthedRequest, reply: FastifyReply, pipes: Pipes) => Promise<unknown>;
interface Pipes {
  uuid: PipeTransform<string, Promise<string>>;
  body: BodyValidationPipe;
}

const header = (request: FastifyRequest, name: string) => request.headers[name] as string | undefined;
const idOf = (request: FastifyRequest, pipes: Pipes) =>
  pipes.uuid.transform((request.params as { id: string }).id, { type: 'param', data: 'id', metatype: String });
/** A well-formed body without the pipe (hot-bodies.ts); anything else through it, for its errors. */
const body = async <T>(request: FastifyRequest, pipes: Pipes, metatype: Type<T>, shape: Shape) =>
  wellFormed<T>(shape, request.body) ?? ((await pipes.body.transform(request.body, { type: 'body', metatype })) as T);
const audit = (request: AuthedRequest) => auditContextOf(request.actor!, String(request.id));

/** The routes every other service calls on almost every request (issue 13), and how each calls its controller method. */
const HOT: Record<string, { method: keyof UsersController; call: Call }> = {
  'GET /api/v1/users/:id': {
    method: 'get',
    call: async (users, request, reply, pipes) =>
      users.get(request.actor!, await idOf(request, pipes), header(request, 'if-none-match'), reply),
  },
  'GET /api/v1/users/by-keycloak/:keycloakId': {
    method: 'getByKeycloakId',
    call: (users, request, reply) =>
      users.getByKeycloakId(request.actor!, (request.params as { keycloakId: string }).keycloakId, header(request, 'if-none-match'), reply),
  },
  'GET /api/v1/users/by-email/:email': {
    method: 'getByEmail',
    call: (users, request, reply) =>
      users.getByEmail(request.actor!, (request.params as { email: string }).email, header(request, 'if-none-match'), reply),
  },
  'POST /api/v1/users': {
    method: 'create',
    call: async (users, request, reply, pipes) =>
      users.create(request.actor!, audit(request), await body(request, pipes, CreateUserDto, CREATE_USER), reply),
  },
  'PATCH /api/v1/users/:id': {
    method: 'update',
    call: async (users, request, reply, pipes) => {
      const id = await idOf(request, pipes);
      return users.update(
        request.actor!,
        audit(request),
        id,
        await body(request, pipes, UpdateUserDto, UPDATE_USER),
        header(request, 'if-match'),
        reply,
      );
    },
  },
};

/**
 * The hot routes keep their controller methods, decorators and OpenAPI description, and run the same guards, pipes,
 * activity log and error filter; only Nest's generic per-request machinery around them (an execution context and
 * a promise per parameter, the interceptor chain, the exceptions zone) is replaced by the direct calls above.
 * Measured with bench/http (issue 13): see bench/README.md. Everything else stays with Nest's router.
 *
 * Call before app.init() (which registers the routes). Start-up fails if a hot route is missing or gains a guard,
 * pipe, interceptor or filter of its own that this file does not run.
 */
export function installHotRoutes(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const users = app.get(UsersController);
  const reflector = app.get(Reflector);
  // In the order of app.module.ts: no limiter with RATE_LIMIT_PER_MINUTE=0.
  const limited = app.get(AppConfig).rateLimitPerMinute > 0;
  const guards: CanActivate[] = [...(limited ? [app.get(RateLimitGuard)] : []), app.get(AuthGuard)];
  const filter = app.get(ErrorFilter);
  const pipes: Pipes = { uuid: uuidPipe('id'), body: app.get(BodyValidationPipe) };
  const installed = new Set<string>();

  fastify.addHook('onRoute', (route) => {
    const key = `${String(route.method)} ${route.url}`;
    const hot = HOT[key];
    if (!hot) return;
    const handler = UsersController.prototype[hot.method] as (...args: never[]) => unknown;
    checkEnhancers(key, handler);
    const activity = activityOf(reflector, handler);
    const status = route.method === 'POST' ? 201 : 200;
    route.handler = async function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
      const context = new ExecutionContextHost([request, reply, undefined], UsersController, handler);
      context.setType('http');
      try {
        for (const guard of guards) {
          if (!(await guard.canActivate(context))) throw new ForbiddenException('Forbidden resource');
        }
        void reply.status(status);
        const result = await hot.call(users, request as AuthedRequest, reply, pipes);
        if (activity) logActivity(request, activity, result);
        return reply.send(result);
      } catch (error) {
        filter.catch(error, context);
        return reply;
      }
    } as RouteHandlerMethod;
    installed.add(key);
  });
  fastify.addHook('onReady', (done) => {
    const missing = Object.keys(HOT).filter((key) => !installed.has(key));
    done(missing.length > 0 ? new Error(`hot-routes: no such route ${missing.join(', ')}`) : undefined);
  });
}

/** The only enhancer of a hot route may be the activity log, which the handler above writes itself. */
function checkEnhancers(key: string, handler: object): void {
  for (const target of [handler, UsersController]) {
    for (const metadata of [GUARDS_METADATA, PIPES_METADATA, EXCEPTION_FILTERS_METADATA]) {
      if ((Reflect.getMetadata(metadata, target) ?? []).length > 0) throw new Error(`hot-routes: ${key} has ${metadata} of its own`);
    }
    const interceptors: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, target) ?? [];
    if (interceptors.some((interceptor) => interceptor !== UserActivityLog))
      throw new Error(`hot-routes: ${key} has an interceptor of its own`);
  }
}
