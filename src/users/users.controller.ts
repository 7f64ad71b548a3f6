import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentActor } from '../common/auth.guard';
import { parseIfMatch, withEtag } from '../common/etag';
import { ApiErrors, ApiIfMatch, ApiIfNoneMatch, ApiUserId, BEARER, ETAG_HEADER, INTERNAL } from '../common/openapi';
import { Actor } from '../common/token-verifier';
import { CurrentAudit } from './audit-context';
import { AuditContext } from './domain/audit';
import { UuidParam } from '../common/uuid.pipe';
import { CreateUser } from './commands/create-user';
import { DeleteUser } from './commands/delete-user';
import { ReplaceProfile } from './commands/replace-profile';
import { UpdatePreferences } from './commands/update-preferences';
import { UpdateProfile } from './commands/update-profile';
import { normaliseEmail } from './domain/user';
import { CreateUserDto, NewProfileDto, UpdatePreferencesDto, UpdateUserDto } from './dto';
import { GetPreferences } from './queries/get-preferences';
import { GetUser } from './queries/get-user';
import { RecordsActivity } from './user-activity';
import { DeletedResponse, PreferencesResponse, UserResponse } from './user.responses';

@ApiTags('users')
@ApiBearerAuth(BEARER)
@ApiSecurity(INTERNAL)
@ApiErrors([401, 'UNAUTHENTICATED'], [429, 'RATE_LIMITED'])
@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @RecordsActivity('user_create', 'User created')
  @ApiOperation({ summary: 'Create the profile of a person registered in Keycloak' })
  @ApiCreatedResponse({
    type: UserResponse,
    headers: { ...ETAG_HEADER, Location: { description: 'The new user', schema: { type: 'string' } } },
  })
  @ApiErrors([400, 'VALIDATION_FAILED, BAD_REQUEST'], [403, 'ACCESS_DENIED'], [409, 'EMAIL_TAKEN, KEYCLOAK_ID_TAKEN'])
  async create(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @Body() body: CreateUserDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const created = await this.commands.execute(new CreateUser(actor, audit, body));
    void reply.header('location', `/api/v1/users/${created.view.id}`);
    return withEtag(reply, created);
  }

  @Get('by-keycloak/:keycloakId')
  @ApiOperation({ summary: 'A user by Keycloak id' })
  @ApiIfNoneMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors([403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'])
  async getByKeycloakId(
    @CurrentActor() actor: Actor,
    @Param('keycloakId') keycloakId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.queries.execute(new GetUser(actor, { keycloakId })), ifNoneMatch);
  }

  @Get('by-email/:email')
  @ApiOperation({ summary: "A user by email: a person's token may look up only its own `email` claim" })
  @ApiParam({ name: 'email', description: 'Trimmed and lower-cased, as on create' })
  @ApiIfNoneMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors([403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'])
  async getByEmail(
    @CurrentActor() actor: Actor,
    @Param('email') email: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.queries.execute(new GetUser(actor, { email: normaliseEmail(email) })), ifNoneMatch);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A user' })
  @ApiUserId()
  @ApiIfNoneMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors([400, 'VALIDATION_FAILED'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async get(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.queries.execute(new GetUser(actor, { id })), ifNoneMatch);
  }

  @Patch(':id')
  @RecordsActivity('user_update', 'User profile updated')
  @ApiOperation({ summary: 'Change part of the profile: absent fields stay, null clears an optional one' })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED, BAD_REQUEST'],
    [403, 'ACCESS_DENIED, ACCOUNT_SUSPENDED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
  )
  async update(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Body() body: UpdateUserDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new UpdateProfile(actor, audit, id, body.profile ?? {}, parseIfMatch(ifMatch))));
  }

  @Put(':id/profile')
  @RecordsActivity('user_update', 'User profile replaced')
  @ApiOperation({ summary: 'Replace the profile; optional fields left out are cleared' })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: UserResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED, BAD_REQUEST'],
    [403, 'ACCESS_DENIED, ACCOUNT_SUSPENDED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
  )
  async replaceProfile(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Body() body: NewProfileDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new ReplaceProfile(actor, audit, id, body, parseIfMatch(ifMatch))));
  }

  @Delete(':id')
  @RecordsActivity('user_delete', 'User deleted')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Soft delete: the user is 404 afterwards; email and Keycloak id may register again. Admins may restore it within ' +
      'DELETION_GRACE_DAYS; after that it is erased. A suspended person may delete their own account.',
  })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: DeletedResponse })
  @ApiErrors([400, 'VALIDATION_FAILED'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'], [412, 'VERSION_MISMATCH'])
  async delete(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ) {
    await this.commands.execute(new DeleteUser(actor, audit, id, parseIfMatch(ifMatch)));
    return { message: 'User deleted successfully' };
  }

  @Get(':id/preferences')
  @ApiOperation({ summary: "A user's preferences" })
  @ApiUserId()
  @ApiIfNoneMatch()
  @ApiOkResponse({ type: PreferencesResponse, headers: ETAG_HEADER })
  @ApiErrors([400, 'VALIDATION_FAILED'], [403, 'ACCESS_DENIED'], [404, 'USER_NOT_FOUND'], [410, 'USER_ERASED'])
  async getPreferences(
    @CurrentActor() actor: Actor,
    @UuidParam() id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.queries.execute(new GetPreferences(actor, id)), ifNoneMatch);
  }

  @Patch(':id/preferences')
  @RecordsActivity('preferences_update', 'User preferences updated')
  @ApiOperation({ summary: 'Change preferences (merge)' })
  @ApiUserId()
  @ApiIfMatch()
  @ApiOkResponse({ type: PreferencesResponse, headers: ETAG_HEADER })
  @ApiErrors(
    [400, 'VALIDATION_FAILED, BAD_REQUEST'],
    [403, 'ACCESS_DENIED, ACCOUNT_SUSPENDED'],
    [404, 'USER_NOT_FOUND'],
    [410, 'USER_ERASED'],
    [412, 'VERSION_MISMATCH'],
  )
  async updatePreferences(
    @CurrentActor() actor: Actor,
    @CurrentAudit() audit: AuditContext,
    @UuidParam() id: string,
    @Body() body: UpdatePreferencesDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.commands.execute(new UpdatePreferences(actor, audit, id, body, parseIfMatch(ifMatch))));
  }
}
