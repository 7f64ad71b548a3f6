import { Controller, Delete, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors, ApiIfMatch, ApiUserId, BEARER, ETAG_HEADER, INTERNAL } from '../common/openapi';
import { CurrentActor } from '../common/auth.guard';
import { assertVersion, parseIfMatch, withEtag } from '../common/etag';
import { MULTIPART } from '../common/request-bodies';
import { Actor } from '../common/token-verifier';
import { CurrentAudit } from './audit-context';
import { AuditContext } from './domain/audit';
import { AvatarProcessor } from '../storage/avatar-processor';
import { UuidParam } from '../common/uuid.pipe';
import { readAvatarUpload } from './avatar-upload';
import { assertMayChange } from './commands/modify-user';
import { RemoveAvatar } from './commands/remove-avatar';
import { ReplaceAvatar } from './commands/replace-avatar';
import { GetUser } from './queries/get-user';

class AvatarVariantResponse {
  @ApiProperty({ description: 'Nominal slot: 64, 128, 256 or 512', example: 256 }) size: number;
  @ApiProperty() url: string;
  @ApiProperty({ description: 'Real pixels (never upscaled)', example: 256 }) width: number;
  @ApiProperty({ example: 256 }) height: number;
}

class AvatarResponse {
  @ApiProperty({ description: 'The canonical (256 px) variant; immutable, cacheable for a year' }) avatarUrl: string;
  @ApiProperty({ type: [AvatarVariantResponse] }) variants: AvatarVariantResponse[];
  @ApiProperty({ description: 'Bytes of the uploaded file', example: 48213 }) fileSize: number;
}

class AvatarDeletedResponse {
  @ApiProperty({ example: 'Avatar deleted successfully' }) message: string;
}

@ApiTags('avatars')
@ApiBearerAuth(BEARER)
@ApiSecurity(INTERNAL)
@ApiErrors([401, 'UNAUTHENTICATED'], [429, 'RATE_LIMITED'])
@Controller('api/v1/users')
export class AvatarController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly processor: AvatarProcessor,
  ) {}

  /** multipart/form-data with the image in `file`: JPEG or PNG, at most 5 MB. */
  @Post(':id/avatar')
  @RouteConfig(MULTIPART)
  @HttpCode(200)
  @ApiOperation({ summary: 'Upload an avatar: JPEG or PNG by content, at most 5 MB; stored re-encoded, without metadata, in four sizes' })
  @ApiUserId()
  @ApiIfMatch()
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiOkResponse({ type: AvatarResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED, BAD_REQUEST'],
    [403, 'ACCESS_DENIED, ACCOUNT_SUSPENDED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [408, 'REQUEST_TIMEOUT'],
    [412, 'VERSION_MISMATCH'],
    [413, 'PAYLOAD_TOO_LARGE'],
    [415, 'UNSUPPORTED_MEDIA_TYPE'],
    [422, 'INVALID_IMAGE, IMAGE_TOO_LARGE_PIXELS'],
    [503, 'SERVICE_UNAVAILABLE'],
  )
  async upload(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Headers('if-match') ifMatchHeader: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // 404 / 403 / 412 before reading 5 MB and decoding them; checked again under the row lock.
    const ifMatch = parseIfMatch(ifMatchHeader);
    const user = await this.queries.execute(new GetUser(actor, { id }));
    assertMayChange(actor, user.view.status);
    assertVersion(ifMatch, user.version);

    const replaced = await this.processor.admit(async () => {
      const image = await readAvatarUpload(request);
      return this.commands.execute(new ReplaceAvatar(actor, audit, id, image, ifMatch));
    });
    return withEtag(reply, replaced);
  }

  @Delete(':id/avatar')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove the avatar and all its variants' })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: AvatarDeletedResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED'],
    [403, 'ACCESS_DENIED, ACCOUNT_SUSPENDED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
    [503, 'SERVICE_UNAVAILABLE'],
  )
  async remove(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { version } = await this.commands.execute(new RemoveAvatar(actor, audit, id, parseIfMatch(ifMatch)));
    return withEtag(reply, { view: { message: 'Avatar deleted successfully' }, version });
  }
}
