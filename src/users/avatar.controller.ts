import { Controller, Delete, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentActor } from '../common/auth.guard';
import { assertVersion, etagOf, parseIfMatch } from '../common/if-match';
import { Actor } from '../common/token-verifier';
import { AvatarProcessor } from '../storage/avatar-processor';
import { UuidParam } from '../common/uuid.pipe';
import { readAvatarUpload } from './avatar-upload';
import { RemoveAvatar } from './commands/remove-avatar';
import { ReplaceAvatar } from './commands/replace-avatar';
import { GetUser } from './queries/get-user';

@Controller('api/v1/users')
export class AvatarController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly processor: AvatarProcessor,
  ) {}

  /** multipart/form-data with the image in `file`: JPEG or PNG, at most 5 MB. */
  @Post(':id/avatar')
  @HttpCode(200)
  async upload(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-match') ifMatchHeader: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // 404 / 403 / 412 before reading 5 MB and decoding them; checked again under the row lock.
    const ifMatch = parseIfMatch(ifMatchHeader);
    const user = await this.queries.execute(new GetUser(actor, { id }));
    assertVersion(ifMatch, user.version);

    const { version, ...avatar } = await this.processor.admit(async () => {
      const image = await readAvatarUpload(request);
      return this.commands.execute(new ReplaceAvatar(actor, id, image, ifMatch));
    });
    void reply.header('etag', etagOf(version));
    return avatar;
  }

  @Delete(':id/avatar')
  @HttpCode(200)
  async remove(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const version = await this.commands.execute(new RemoveAvatar(actor, id, parseIfMatch(ifMatch)));
    void reply.header('etag', etagOf(version));
    return { message: 'Avatar deleted successfully' };
  }
}
