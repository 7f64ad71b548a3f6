import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AvatarController } from './avatar.controller';
import { CreateUserHandler } from './commands/create-user';
import { DeleteUserHandler } from './commands/delete-user';
import { RemoveAvatarHandler } from './commands/remove-avatar';
import { ReplaceAvatarHandler } from './commands/replace-avatar';
import { ReplaceProfileHandler } from './commands/replace-profile';
import { UpdatePreferencesHandler } from './commands/update-preferences';
import { UpdateProfileHandler } from './commands/update-profile';
import { IdempotencyKeyExpiry } from './persistence/idempotency-key-expiry';
import { PgUserReader } from './persistence/pg-user.reader';
import { PgUserRepository } from './persistence/pg-user.repository';
import { UserReader, UserRepository } from './persistence/user.repository';
import { GetPreferencesHandler } from './queries/get-preferences';
import { GetUserHandler } from './queries/get-user';
import { UsersController } from './users.controller';
import { DirectoryController } from './directory.controller';
import { DirectoryCursors } from './queries/directory-cursor';
import { FindUsersHandler } from './queries/find-users';
import { IncrementInterviewsHandler } from './commands/increment-interviews';
import { SetQuotaHandler } from './commands/set-quota';
import { ReleaseReservationHandler, ReserveQuotaHandler } from './commands/reserve-quota';
import { QuotaReservationExpiry } from './persistence/quota-reservation-expiry';
import { GetQuotaHandler } from './queries/get-quota';
import { GetStatsHandler } from './queries/get-stats';
import { UsageController } from './usage.controller';
import { EraseUserHandler } from './commands/erase-user';
import { PlaceLegalHoldHandler } from './commands/place-legal-hold';
import { ReactivateUserHandler } from './commands/reactivate-user';
import { ReleaseLegalHoldHandler } from './commands/release-legal-hold';
import { RestoreUserHandler } from './commands/restore-user';
import { SuspendUserHandler } from './commands/suspend-user';
import { AuditRetention } from './jobs/audit-retention';
import { DeletionPurge } from './jobs/deletion-purge';
import { LifecycleJobs } from './jobs/lifecycle-jobs';
import { SuspensionExpiry } from './jobs/suspension-expiry';
import { LifecycleController } from './lifecycle.controller';
import { AuditTrail } from './persistence/audit-trail';
import { PgAuditTrail } from './persistence/pg-audit-trail';
import { PrivacyController } from './privacy.controller';
import { ExportUserHandler } from './queries/export-user';
import { GetAuditTrailHandler } from './queries/get-audit-trail';
import { GetLegalHoldHandler } from './queries/get-legal-hold';

@Module({
  imports: [CqrsModule],
  controllers: [UsersController, DirectoryController, UsageController, AvatarController, LifecycleController, PrivacyController],
  providers: [
    { provide: UserRepository, useClass: PgUserRepository },
    { provide: UserReader, useClass: PgUserReader },
    IdempotencyKeyExpiry,
    CreateUserHandler,
    UpdateProfileHandler,
    ReplaceProfileHandler,
    DeleteUserHandler,
    UpdatePreferencesHandler,
    ReplaceAvatarHandler,
    RemoveAvatarHandler,
    GetUserHandler,
    FindUsersHandler,
    DirectoryCursors,
    GetPreferencesHandler,
    IncrementInterviewsHandler,
    SetQuotaHandler,
    ReserveQuotaHandler,
    ReleaseReservationHandler,
    QuotaReservationExpiry,
    GetStatsHandler,
    GetQuotaHandler,
    { provide: AuditTrail, useClass: PgAuditTrail },
    SuspendUserHandler,
    ReactivateUserHandler,
    RestoreUserHandler,
    EraseUserHandler,
    PlaceLegalHoldHandler,
    ReleaseLegalHoldHandler,
    GetLegalHoldHandler,
    GetAuditTrailHandler,
    ExportUserHandler,
    SuspensionExpiry,
    DeletionPurge,
    AuditRetention,
    LifecycleJobs,
  ],
  exports: [UserRepository, UserReader, AuditTrail],
})
export class UsersModule {}
