import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth.guard';
import { ApiErrors } from '../common/openapi';
import { DomainError } from '../common/domain-error';
import { AVATAR_CACHE_CONTROL, AVATAR_KEY, AvatarStorage } from './avatar-storage';
import { LocalAvatarStorage } from './local-avatar-storage';

class AvatarFileNotFound extends DomainError {
  constructor() {
    super('NOT_FOUND', 'No such avatar');
  }
}

/**
 * Serves the embedded store's objects (only registered when there is no MinIO). The key is matched against the
 * exact shape we write, so no path outside DATA_DIR/avatars can be named.
 */
@ApiTags('avatars')
@Public()
@Controller('avatars')
export class AvatarFilesController {
  constructor(private readonly storage: AvatarStorage) {}

  @Get('users/:userId/:hash/:file')
  @ApiOperation({ summary: 'An avatar image of the embedded store (only without MinIO); immutable, cacheable for a year' })
  @ApiProduces('image/jpeg', 'image/png')
  @ApiOkResponse({ description: 'The image', schema: { type: 'string', format: 'binary' } })
  @ApiErrors([404, 'NOT_FOUND'], [429, 'RATE_LIMITED'])
  async get(
    @Param('userId') userId: string,
    @Param('hash') hash: string,
    @Param('file') file: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const key = `users/${userId}/${hash}/${file}`;
    if (!AVATAR_KEY.test(key) || !(this.storage instanceof LocalAvatarStorage)) throw new AvatarFileNotFound();
    const path = this.storage.pathOf(key);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw new AvatarFileNotFound();
    void reply
      .header('content-type', file.endsWith('.png') ? 'image/png' : 'image/jpeg')
      .header('content-length', info.size)
      .header('cache-control', AVATAR_CACHE_CONTROL)
      .header('etag', `"${hash.slice(0, 16)}-${file}"`);
    return createReadStream(path);
  }
}
