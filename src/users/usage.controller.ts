import { Body, Controller, Get, Headers, HttpCode, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { CurrentActor, InternalOnly } from '../common/auth.guard';
import { parseIdempotencyKey } from '../common/idempotency-key';
import { etagOf, parseIfMatch } from '../common/if-match';
import { Actor } from '../common/token-verifier';
import { UuidParam } from '../common/uuid.pipe';
import { IncrementInterviews } from './commands/increment-interviews';
import { SetQuota } from './commands/set-quota';
import { SetQuotaDto } from './dto';
import { GetQuota } from './queries/get-quota';
import { GetStats } from './queries/get-stats';
import { Versioned } from './user.view';

/** Usage statistics and quotas: read by the user, changed by other services. */
@Controller('api/v1/users')
export class UsageController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get(':id/stats')
  async stats(@CurrentActor() actor: Actor, @UuidParam() id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return withEtag(reply, await this.queries.execute(new GetStats(actor, id)));
  }

  @Post(':id/stats/increment-interviews')
  @InternalOnly()
  @HttpCode(200)
  async incrementInterviews(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.commands.execute(new IncrementInterviews(actor, id, parseIdempotencyKey(idempotencyKey)));
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    void reply.status(result.status);
    return result.body;
  }

  @Get(':id/quota')
  async quota(@CurrentActor() actor: Actor, @UuidParam() id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return withEtag(reply, await this.queries.execute(new GetQuota(actor, id)));
  }

  @Put(':id/quota')
  @InternalOnly()
  async setQuota(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Body() body: SetQuotaDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new SetQuota(actor, id, body, parseIfMatch(ifMatch))));
  }
}

function withEtag<T>(reply: FastifyReply, { body, version }: Versioned<T>): T {
  void reply.header('etag', etagOf(version));
  return body;
}
