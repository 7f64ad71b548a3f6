import { applyDecorators, Controller, Get, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentActor } from '../common/auth.guard';
import { ApiErrors, BEARER, INTERNAL } from '../common/openapi';
import { Actor } from '../common/token-verifier';
import { DIRECTORY_PARAMETERS } from './directory-params';
import { FindUsers, UserPage } from './queries/find-users';
import { UserPageResponse } from './user.responses';

@ApiTags('users')
@ApiBearerAuth(BEARER)
@ApiSecurity(INTERNAL)
@ApiErrors([401, 'UNAUTHENTICATED'], [429, 'RATE_LIMITED'])
@Controller('api/v1/users')
export class DirectoryController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: 'Find users: filters combine with AND; keyset pages (follow nextCursor or the Link header)',
    description: 'For admin tokens and internal callers; a person token is 403. See README "Finding users".',
  })
  @applyDecorators(...DIRECTORY_PARAMETERS.map((parameter) => ApiQuery(parameter)))
  @ApiOkResponse({
    type: UserPageResponse,
    description: 'A page of users',
    headers: { Link: { description: '`</api/v1/users?…&cursor=…>; rel="next"` while another page follows', schema: { type: 'string' } } },
  })
  @ApiErrors(
    [400, 'VALIDATION_FAILED (a parameter, named in details), INVALID_CURSOR (altered, garbage, or made for other filters or sort)'],
    [403, 'ACCESS_DENIED (a person token; status=deleted without an admin token)'],
  )
  async find(
    @CurrentActor() actor: Actor,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserPage> {
    const page = await this.queries.execute(new FindUsers(actor, query));
    if (page.nextCursor) {
      const next = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) if (name !== 'cursor') next.append(name, String(value));
      next.set('cursor', page.nextCursor);
      void reply.header('link', `</api/v1/users?${next.toString()}>; rel="next"`);
    }
    return page;
  }
}
