import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { CurrentActor } from '../common/auth.guard';
import { etagOf, matchesIfNoneMatch, parseIfMatch } from '../common/if-match';
import { Actor } from '../common/token-verifier';
import { UuidParam } from '../common/uuid.pipe';
import { CreateUser } from './commands/create-user';
import { DeleteUser } from './commands/delete-user';
import { ReplaceProfile } from './commands/replace-profile';
import { UpdatePreferences } from './commands/update-preferences';
import { UpdateProfile } from './commands/update-profile';
import { CreateUserDto, NewProfileDto, UpdatePreferencesDto, UpdateUserDto } from './dto';
import { GetPreferences } from './queries/get-preferences';
import { GetUser } from './queries/get-user';

@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  async create(@CurrentActor() actor: Actor, @Body() body: CreateUserDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const user = await this.commands.execute(new CreateUser(actor, body));
    void reply.header('etag', etagOf(user.version)).header('location', `/api/v1/users/${user.id}`);
    return user;
  }

  @Get('by-keycloak/:keycloakId')
  async getByKeycloakId(
    @CurrentActor() actor: Actor,
    @Param('keycloakId') keycloakId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const user = await this.queries.execute(new GetUser(actor, { keycloakId }));
    return withEtag(reply, user, ifNoneMatch);
  }

  @Get(':id')
  async get(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const user = await this.queries.execute(new GetUser(actor, { id }));
    return withEtag(reply, user, ifNoneMatch);
  }

  @Patch(':id')
  async update(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Body() body: UpdateUserDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const user = await this.commands.execute(new UpdateProfile(actor, id, body.profile ?? {}, parseIfMatch(ifMatch)));
    return withEtag(reply, user);
  }

  @Put(':id/profile')
  async replaceProfile(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Body() body: NewProfileDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const user = await this.commands.execute(new ReplaceProfile(actor, id, body, parseIfMatch(ifMatch)));
    return withEtag(reply, user);
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@CurrentActor() actor: Actor, @UuidParam() id: string, @Headers('if-match') ifMatch: string | undefined) {
    await this.commands.execute(new DeleteUser(actor, id, parseIfMatch(ifMatch)));
    return { message: 'User deleted successfully' };
  }

  @Get(':id/preferences')
  async getPreferences(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const view = await this.queries.execute(new GetPreferences(actor, id));
    return withEtag(reply, view, ifNoneMatch);
  }

  @Patch(':id/preferences')
  async updatePreferences(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Body() body: UpdatePreferencesDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const view = await this.commands.execute(new UpdatePreferences(actor, id, body, parseIfMatch(ifMatch)));
    return withEtag(reply, view);
  }
}

/** Sets the ETag; answers 304 with no body when the client's copy is current. */
function withEtag<T extends { version: number }>(reply: FastifyReply, view: T, ifNoneMatch?: string): T | undefined {
  void reply.header('etag', etagOf(view.version));
  if (matchesIfNoneMatch(ifNoneMatch, view.version)) {
    void reply.status(304);
    return undefined;
  }
  return view;
}
