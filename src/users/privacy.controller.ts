import { Controller, Get, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentActor } from '../common/auth.guard';
import { ApiErrors, ApiUserId, BEARER, INTERNAL } from '../common/openapi';
import { Actor } from '../common/token-verifier';
import { UuidParam } from '../common/uuid.pipe';
import { AuditQueryDto, ExportQueryDto } from './lifecycle.dto';
import { AuditPageResponse, UserExportResponse } from './lifecycle.responses';
import { ExportUser } from './queries/export-user';
import { GetAuditTrail } from './queries/get-audit-trail';

const DEFAULT_PAGE = 20;

/** What the service keeps of a person: their audit trail and the export of everything (GDPR art. 15 and 20). */
@ApiTags('privacy')
@ApiBearerAuth(BEARER)
@ApiSecurity(INTERNAL)
@ApiErrors([401, 'UNAUTHENTICATED'], [429, 'RATE_LIMITED'])
@Controller('api/v1/users')
export class PrivacyController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/audit')
  @ApiOperation({
    summary:
      'Who changed what and when, newest first, in keyset pages (admins and services any user, erased ones too; a person their own, ' +
      'without legal hold entries). Personal fields appear by name only.',
  })
  @ApiUserId()
  @ApiOkResponse({
    type: AuditPageResponse,
    headers: { Link: { description: '<…/audit?limit=…&cursor=…>; rel="next" unless this is the last page', schema: { type: 'string' } } },
  })
  @ApiErrors([400, 'VALIDATION_FAILED, INVALID_CURSOR'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async audit(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Query() query: AuditQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const limit = query.limit ?? DEFAULT_PAGE;
    const page = await this.queries.execute(new GetAuditTrail(actor, id, limit, query.cursor ?? null));
    if (page.nextCursor) {
      void reply.header('link', `</api/v1/users/${id}/audit?limit=${limit}&cursor=${page.nextCursor}>; rel="next"`);
    }
    return page;
  }

  @Get(':id/export')
  @ApiOperation({
    summary:
      'Everything the service keeps of a person, as one JSON file: profile, preferences, stats, quota, status history, avatar ' +
      '(URLs; with include=avatar the images as data URLs) and audit trail. The person (also while suspended), admins, services.',
  })
  @ApiUserId()
  @ApiOkResponse({
    type: UserExportResponse,
    headers: {
      'Content-Disposition': { description: 'attachment; filename="user-<id>.json"', schema: { type: 'string' } },
      'Cache-Control': { description: 'no-store', schema: { type: 'string' } },
    },
  })
  @ApiErrors(
    [400, 'VALIDATION_FAILED'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [503, 'SERVICE_UNAVAILABLE (include=avatar: the avatar store)'],
  )
  async export(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Query() query: ExportQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const document = await this.queries.execute(new ExportUser(actor, id, query.include === 'avatar'));
    void reply.header('content-disposition', `attachment; filename="user-${id}.json"`).header('cache-control', 'no-store');
    return document;
  }
}
