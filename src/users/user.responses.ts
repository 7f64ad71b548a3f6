import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NotificationSettings, PreferencesFields } from './domain/preferences';
import { QUOTA_RESOURCES, QuotaResource, ReservationReceipt } from './domain/quota-reservation';
import { UserPage } from './queries/find-users';
import { PreferencesView, QuotaView as QuotaView2, StatsView as StatsView2, UserView } from './user.view';

// Response shapes for the OpenAPI document; `implements` keeps them in step with the views.

type ProfileView = UserView['profile'];
type StatsView = UserView['stats'];
type QuotaView = UserView['quota'];

export class ProfileResponse implements ProfileView {
  @ApiProperty({ example: 'Ann Smith' }) fullName: string;
  @ApiProperty({ type: String, nullable: true }) companyName: string | null;
  @ApiProperty({ type: String, nullable: true }) phone: string | null;
  @ApiProperty({ type: String, nullable: true }) bio: string | null;
  @ApiProperty({ type: String, nullable: true }) avatarUrl: string | null;
}

export class StatsResponse implements StatsView {
  @ApiProperty() interviewsCreated: number;
  @ApiProperty() interviewsActive: number;
  @ApiProperty() candidatesTotal: number;
  @ApiProperty({ description: 'Bytes' }) storageUsed: number;
}

export class QuotaResponse implements QuotaView {
  @ApiProperty({ example: 10 }) maxInterviews: number;
  @ApiProperty({ description: 'Bytes', example: 5368709120 }) maxStorage: number;
}

export class NotificationsResponse implements NotificationSettings {
  @ApiProperty() email: boolean;
  @ApiProperty() productNews: boolean;
  @ApiProperty() interviewReminders: boolean;
}

export class PreferencesFieldsResponse implements PreferencesFields {
  @ApiProperty({ example: 'en' }) language: string;
  @ApiProperty({ example: 'UTC' }) timezone: string;
  @ApiProperty({ type: NotificationsResponse }) notifications: NotificationsResponse;
}

export class SuspensionResponse {
  @ApiProperty({ description: "The admin's reason, shown to the person", example: 'Repeated spam to candidates' }) reason: string;
  @ApiProperty({ format: 'date-time' }) since: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it ends by itself; null: until reactivated' })
  until: string | null;
}

export class UserResponse implements UserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'kc-demo' }) keycloakId: string;
  @ApiProperty({ format: 'email' }) email: string;
  @ApiProperty({ enum: ['active', 'suspended'], description: 'Deleted users are 404, erased ones 410' }) status: UserView['status'];
  @ApiProperty({ type: SuspensionResponse, nullable: true, description: 'Present while suspended' }) suspension: SuspensionResponse | null;
  @ApiProperty({ type: ProfileResponse }) profile: ProfileResponse;
  @ApiProperty({ type: StatsResponse }) stats: StatsResponse;
  @ApiProperty({ type: QuotaResponse }) quota: QuotaResponse;
  @ApiProperty({ type: PreferencesFieldsResponse }) preferences: PreferencesFieldsResponse;
  @ApiProperty({ description: 'Increments on every change; the ETag is "<version>"', example: 1 }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class UserPageResponse implements UserPage {
  @ApiProperty({ type: [UserResponse], description: 'In the order `sort` asks for' }) data: UserResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page (same filters and sort); null on the last page',
  })
  nextCursor: string | null;
  @ApiPropertyOptional({ description: 'With include=total: how many users match (all pages)', example: 1342 }) total?: number;
  @ApiPropertyOptional({ description: "With include=total: false when total is exact, true when it is the planner's estimate" })
  totalIsEstimate?: boolean;
}

export class PreferencesResponse implements PreferencesView {
  @ApiProperty({ type: PreferencesFieldsResponse }) preferences: PreferencesFieldsResponse;
  @ApiProperty({ example: 2 }) version: number;
}

export class DeletedResponse {
  @ApiProperty({ example: 'User deleted successfully' }) message: string;
}

export class UsageStatsResponse implements StatsView2 {
  @ApiProperty({ example: 3 }) interviewsCreated: number;
  @ApiProperty({ example: 2 }) interviewsActive: number;
  @ApiProperty({ example: 14 }) candidatesTotal: number;
  @ApiProperty({ description: 'Bytes', example: 1610612736 }) storageUsed: number;
  @ApiProperty({ description: 'Binary multiples', example: '1.5 GB' }) storageUsedFormatted: string;
}

export class QuotaUsageResponse {
  @ApiProperty({ example: 2 }) used: number;
  @ApiProperty({ example: 10 }) limit: number;
  @ApiProperty({ example: 1, description: 'Held by live quota reservations (POST /users/{id}/quota/reservations)' }) reserved: number;
  @ApiProperty({ example: 7, description: 'limit − used − reserved, at least 0: what may still be reserved' }) remaining: number;
}

export class StorageUsageResponse extends QuotaUsageResponse {
  @ApiProperty({ example: '1.5 GB' }) usedFormatted: string;
  @ApiProperty({ example: '5 GB' }) limitFormatted: string;
}

export class QuotaUsageViewResponse implements QuotaView2 {
  @ApiProperty({ type: QuotaUsageResponse, description: 'Active interviews against maxInterviews' }) interviews: QuotaUsageResponse;
  @ApiProperty({ type: StorageUsageResponse, description: 'Bytes against maxStorage' }) storage: StorageUsageResponse;
  @ApiProperty({ description: 'True when either limit is reached' }) exceeded: boolean;
}

export class ReservationResponse implements ReservationReceipt {
  @ApiProperty({ format: 'uuid', description: 'For DELETE /users/{id}/quota/reservations/{reservationId}' }) reservationId: string;
  @ApiProperty({ enum: QUOTA_RESOURCES }) resource: QuotaResource;
  @ApiProperty({ example: 1 }) amount: number;
  @ApiProperty({ example: 'iv-1' }) reference: string;
  @ApiProperty({ format: 'date-time', description: 'Unless settled or released first, it stops counting then' }) expiresAt: string;
  @ApiProperty({ example: 2, description: 'What remains of the resource with this reservation held' }) remaining: number;
}
