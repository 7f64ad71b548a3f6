import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly, AdminOrInternal, CurrentActor } from '../common/auth.guard';
import { parseIfMatch, withEtag } from '../common/etag';
import { ApiErrors, ApiIfMatch, ApiIfNoneMatch, ApiUserId, BEARER, ETAG_HEADER, INTERNAL } from '../common/openapi';
import { Actor } from '../common/token-verifier';
import { UuidParam } from '../common/uuid.pipe';
import { CurrentAudit } from './audit-context';
import { EraseUser } from './commands/erase-user';
import { PlaceLegalHold } from './commands/place-legal-hold';
import { ReactivateUser } from './commands/reactivate-user';
import { ReleaseLegalHold } from './commands/release-legal-hold';
import { RestoreUser } from './commands/restore-user';
import { SuspendUser } from './commands/suspend-user';
import { AuditContext } from './domain/audit';
import { LegalHoldDto, SuspendUserDto } from './lifecycle.dto';
import { ErasedResponse, LegalHoldResponse } from './lifecycle.responses';
import { GetLegalHold } from './queries/get-legal-hold';
import { RecordsActivity } from './user-activity';
import { UserResponse } from './user.responses';

/** Account states (suspend, reactivate, restore, erase) and legal holds: admins (and for suspensions, other services). */
@ApiTags('lifecycle')
@ApiBearerAuth(BEARER)
@ApiSecurity(INTERNAL)
@ApiErrors([401, 'UNAUTHENTICATED'], [429, 'RATE_LIMITED'])
@Controller('api/v1/users')
export class LifecycleController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post(':id/suspend')
  @RecordsActivity('user_suspend', 'User suspended')
  @AdminOrInternal()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Suspend an active user (admins, services): user.suspended. The person may still read and export their data and delete ' +
      'their account; their other writes are 403 ACCOUNT_SUSPENDED. With `until` it ends by itself.',
  })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED (also `until` not in the future), BAD_REQUEST'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [409, 'INVALID_STATE_TRANSITION (not active)'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
  )
  async suspend(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Body() body: SuspendUserDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const suspension = { reason: body.reason, until: body.until ? new Date(body.until) : null };
    return withEtag(reply, await this.commands.execute(new SuspendUser(actor, audit, id, suspension, parseIfMatch(ifMatch))));
  }

  @Post(':id/reactivate')
  @RecordsActivity('user_reactivate', 'User reactivated')
  @AdminOrInternal()
  @HttpCode(200)
  @ApiOperation({ summary: 'End a suspension now (admins, services): user.reactivated' })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [409, 'INVALID_STATE_TRANSITION (not suspended)'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
  )
  async reactivate(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new ReactivateUser(actor, audit, id, parseIfMatch(ifMatch))));
  }

  @Post(':id/restore')
  @RecordsActivity('user_restore', 'User restored')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Bring back a soft-deleted user under the same id within DELETION_GRACE_DAYS (admins): user.restored. ' +
      'It comes back suspended if it was.',
  })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [409, 'INVALID_STATE_TRANSITION (not deleted), GRACE_PERIOD_EXPIRED, EMAIL_TAKEN, KEYCLOAK_ID_TAKEN (taken meanwhile)'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
  )
  async restore(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new RestoreUser(actor, audit, id, parseIfMatch(ifMatch))));
  }

  @Post(':id/erase')
  @RecordsActivity('user_erase', 'User erased')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Erase a user now (admins), deleting it first if needed: every personal datum goes from the database and every avatar ' +
      'object from the store; the id stays, 410 USER_ERASED. user.erased {userId}.',
  })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: ErasedResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [409, 'LEGAL_HOLD'],
    [410, 'USER_ERASED (already)'],
    [412, 'VERSION_MISMATCH'],
    [503, 'SERVICE_UNAVAILABLE (the avatar store; nothing was erased)'],
  )
  async erase(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new EraseUser(actor, audit, id, parseIfMatch(ifMatch))));
  }

  @Get(':id/legal-hold')
  @AdminOnly()
  @ApiOperation({ summary: 'Whether a live or soft-deleted user is under a legal hold (admins)' })
  @ApiUserId()
  @ApiIfNoneMatch()
  @ApiOkResponse({ type: LegalHoldResponse, headers: ETAG_HEADER })
  @ApiErrors([400, 'VALIDATION_FAILED'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async legalHold(
    @UuidParam() id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.queries.execute(new GetLegalHold(id)), ifNoneMatch);
  }

  @Put(':id/legal-hold')
  @RecordsActivity('legal_hold_place', 'Legal hold placed')
  @AdminOnly()
  @ApiOperation({ summary: 'Place (or re-word) a legal hold (admins): the purge skips the user and erase answers 409 LEGAL_HOLD' })
  @ApiUserId()
  @ApiOkResponse({ type: LegalHoldResponse, headers: ETAG_HEADER })
  @ApiErrors([400, 'VALIDATION_FAILED, BAD_REQUEST'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async placeLegalHold(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Body() body: LegalHoldDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new PlaceLegalHold(actor, audit, id, body.reason)));
  }

  @Delete(':id/legal-hold')
  @RecordsActivity('legal_hold_release', 'Legal hold released')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Release the legal hold (admins); none: nothing changes' })
  @ApiUserId()
  @ApiOkResponse({ type: LegalHoldResponse, headers: ETAG_HEADER })
  @ApiErrors([400, 'VALIDATION_FAILED'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async releaseLegalHold(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new ReleaseLegalHold(actor, audit, id)));
  }
}
