import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors, ApiIfMatch, ApiIfNoneMatch, ApiUserId, BEARER, ETAG_HEADER, INTERNAL } from '../common/openapi';
import { CurrentActor, InternalOnly } from '../common/auth.guard';
import { parseIdempotencyKey } from '../common/idempotency-key';
import { parseIfMatch, withEtag } from '../common/etag';
import { Actor } from '../common/token-verifier';
import { CurrentAudit } from './audit-context';
import { AuditContext } from './domain/audit';
import { UuidParam } from '../common/uuid.pipe';
import { IncrementInterviews } from './commands/increment-interviews';
import { ReleaseReservation, ReserveQuota } from './commands/reserve-quota';
import { SetQuota } from './commands/set-quota';
import { ReserveQuotaDto, SetQuotaDto } from './dto';
import { GetQuota } from './queries/get-quota';
import { GetStats } from './queries/get-stats';
import { QuotaUsageViewResponse, ReservationResponse, UsageStatsResponse } from './user.responses';

/** Usage statistics and quotas: read by the user, changed by other services. */
@ApiTags('usage')
@ApiBearerAuth(BEARER)
@ApiSecurity(INTERNAL)
@ApiErrors([401, 'UNAUTHENTICATED'], [429, 'RATE_LIMITED'])
@Controller('api/v1/users')
export class UsageController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get(':id/stats')
  @ApiOperation({ summary: 'Usage statistics, fed by interview, candidate and media events' })
  @ApiUserId()
  @ApiIfNoneMatch()
  @ApiOkResponse({ type: UsageStatsResponse, headers: ETAG_HEADER })
  @ApiErrors([400, 'VALIDATION_FAILED'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async stats(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.queries.execute(new GetStats(actor, id)), ifNoneMatch);
  }

  @Post(':id/stats/increment-interviews')
  @InternalOnly()
  @ApiOperation({ summary: 'Internal: count a new interview (+1 created, +1 active); X-Internal-Token only' })
  @ApiUserId()
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeats with the same key apply once and get the same response' })
  @ApiOkResponse({ type: UsageStatsResponse })
  @ApiErrors(
    [400, 'VALIDATION_FAILED, BAD_REQUEST'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [422, 'IDEMPOTENCY_KEY_REUSED'],
  )
  @HttpCode(200)
  async incrementInterviews(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.commands.execute(new IncrementInterviews(actor, audit, id, parseIdempotencyKey(idempotencyKey)));
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return result.view;
  }

  @Get(':id/quota')
  @ApiOperation({
    summary: 'Used, reserved, limit and remaining for interviews and storage',
    description: 'While a quota reservation is live the answer is Cache-Control: no-store and never 304 (reservations change no version).',
  })
  @ApiUserId()
  @ApiIfNoneMatch()
  @ApiOkResponse({ type: QuotaUsageViewResponse, headers: ETAG_HEADER })
  @ApiErrors([400, 'VALIDATION_FAILED'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async quota(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.queries.execute(new GetQuota(actor, id));
    // Reservations come and go (and expire) without a new version: while any is live the answer is not the
    // version's alone, so it is never 304 and must not be stored. The ETag still names the version, for If-Match.
    if (result.view.interviews.reserved === 0 && result.view.storage.reserved === 0) return withEtag(reply, result, ifNoneMatch);
    void reply.header('cache-control', 'no-store');
    return withEtag(reply, result);
  }

  @Post(':id/quota/reservations')
  @InternalOnly()
  @ApiOperation({
    summary: 'Internal: hold part of a quota until the consumed event with the same reference settles it; X-Internal-Token only',
    description:
      'Counts against the limit until interview.created (interviewId = reference) or media.uploaded (fileId = reference) ' +
      'is consumed, the reservation is released, or it expires (ttlSeconds). 409 QUOTA_EXCEEDED carries `quota` (what remains).',
  })
  @ApiUserId()
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeats with the same key reserve once and get the same response' })
  @ApiCreatedResponse({ type: ReservationResponse })
  @ApiErrors(
    [400, 'VALIDATION_FAILED, BAD_REQUEST'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [409, 'QUOTA_EXCEEDED (with `quota`), RESERVATION_EXISTS (the reference is held; with `reservationId`)'],
    [410, 'USER_ERASED'],
    [422, 'IDEMPOTENCY_KEY_REUSED'],
  )
  @HttpCode(201)
  async reserve(
    @UuidParam() id: string,
    @Body() body: ReserveQuotaDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { receipt, replayed } = await this.commands.execute(new ReserveQuota(id, body, parseIdempotencyKey(idempotencyKey)));
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return receipt;
  }

  @Delete(':id/quota/reservations/:reservationId')
  @InternalOnly()
  @ApiOperation({ summary: 'Internal: give back a reservation that will not be used; X-Internal-Token only' })
  @ApiUserId()
  @ApiParam({ name: 'reservationId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Released' })
  @ApiErrors(
    [400, 'VALIDATION_FAILED'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND, RESERVATION_NOT_FOUND (never made, or already settled, released or expired)'],
    [410, 'USER_ERASED'],
  )
  @HttpCode(204)
  async release(@UuidParam() id: string, @UuidParam('reservationId') reservationId: string): Promise<void> {
    await this.commands.execute(new ReleaseReservation(id, reservationId));
  }

  @Put(':id/quota')
  @InternalOnly()
  @ApiOperation({ summary: 'Internal: set the limits (a billing service changes plans); X-Internal-Token only' })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: QuotaUsageViewResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED, BAD_REQUEST'],
    [403, 'ACCESS_DENIED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
  )
  async setQuota(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Body() body: SetQuotaDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new SetQuota(actor, audit, id, body, parseIfMatch(ifMatch))));
  }
}
