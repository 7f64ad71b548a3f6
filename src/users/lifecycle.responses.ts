import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErasedView } from './commands/erase-user';
import { AuditPage } from './queries/get-audit-trail';
import { AvatarExport, StatusChange, UserExport } from './queries/export-user';
import { AuditEntry } from './persistence/audit-trail';
import {
  PreferencesFieldsResponse,
  ProfileResponse,
  QuotaUsageViewResponse,
  SuspensionResponse,
  UsageStatsResponse,
} from './user.responses';
import { LegalHoldView } from './user.view';

// Response shapes of the lifecycle and privacy routes for the OpenAPI document; `implements` keeps them in step.

export class ErasedResponse implements ErasedView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['erased'] }) status: 'erased';
  @ApiProperty({ format: 'date-time' }) erasedAt: string;
}

export class LegalHoldFieldsResponse {
  @ApiProperty({ example: 'Litigation hold, case 2026-114' }) reason: string;
  @ApiProperty({ format: 'date-time' }) since: string;
}

export class LegalHoldResponse implements LegalHoldView {
  @ApiProperty({ type: LegalHoldFieldsResponse, nullable: true, description: 'null: no hold' }) legalHold: LegalHoldFieldsResponse | null;
}

/** A changed field's value: a string (or null), a number or a boolean. */
const FIELD_VALUE = { oneOf: [{ type: 'string', nullable: true }, { type: 'number' }, { type: 'boolean' }] };

export class FieldChangeResponse {
  @ApiProperty({ example: 'preferences.language' }) field: string;
  @ApiPropertyOptional({
    ...FIELD_VALUE,
    description: 'Absent for personal fields (names, email, phone, bio, Keycloak id, avatar URL) and on creation',
    example: 'en',
  })
  old?: unknown;
  @ApiPropertyOptional({ ...FIELD_VALUE, description: 'Absent for personal fields', example: 'de-DE' }) new?: unknown;
}

export class AuditEntryResponse implements AuditEntry {
  @ApiProperty({ example: '1042' }) id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'user:<sub>, admin:<sub>, service, event:<topic> or system:<job>', example: 'admin:kc-support-1' })
  actor: string;
  @ApiProperty({ type: String, nullable: true, example: '4bf92f3577b34da6a3ce929d0e0e4736' }) traceId: string | null;
  @ApiProperty({
    example: 'profile.updated',
    enum: [
      'created',
      'profile.updated',
      'profile.replaced',
      'preferences.updated',
      'avatar.replaced',
      'avatar.removed',
      'quota.changed',
      'usage.recorded',
      'suspended',
      'reactivated',
      'deleted',
      'restored',
      'erased',
      'legal_hold.placed',
      'legal_hold.released',
    ],
  })
  action: AuditEntry['action'];
  @ApiProperty({ type: [FieldChangeResponse] }) changes: FieldChangeResponse[];
}

export class AuditPageResponse implements AuditPage {
  @ApiProperty({ type: [AuditEntryResponse], description: 'Newest first' }) data: AuditEntryResponse[];
  @ApiProperty({ type: String, nullable: true, description: 'cursor of the next (older) page; null on the last page' }) nextCursor:
    string | null;
}

export class ExportedAccountResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() keycloakId: string;
  @ApiProperty({ format: 'email' }) email: string;
  @ApiProperty({ enum: ['active', 'suspended'] }) status: UserExport['user']['status'];
  @ApiProperty({ type: SuspensionResponse, nullable: true }) suspension: SuspensionResponse | null;
  @ApiProperty() version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class StatusChangeResponse implements StatusChange {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ enum: ['active', 'suspended', 'deleted'] }) status: string;
  @ApiProperty({ example: 'suspended' }) action: string;
  @ApiProperty({ example: 'admin:kc-support-1' }) actor: string;
  @ApiPropertyOptional({ description: "The suspension's reason" }) reason?: string;
}

export class AvatarVariantExportResponse {
  @ApiProperty({ example: 256 }) size: number;
  @ApiProperty() url: string;
  @ApiPropertyOptional({ description: 'With include=avatar: the image, data:image/jpeg;base64,... (or image/png)' }) dataUrl?: string;
}

export class AvatarExportResponse implements AvatarExport {
  @ApiProperty({ description: 'The canonical (256 px) variant' }) url: string;
  @ApiProperty({ type: [AvatarVariantExportResponse] }) variants: AvatarVariantExportResponse[];
}

export class UserExportResponse implements UserExport {
  @ApiProperty({ format: 'date-time' }) exportedAt: string;
  @ApiProperty({ type: ExportedAccountResponse }) user: ExportedAccountResponse;
  @ApiProperty({ type: ProfileResponse }) profile: ProfileResponse;
  @ApiProperty({ type: PreferencesFieldsResponse }) preferences: PreferencesFieldsResponse;
  @ApiProperty({ type: UsageStatsResponse }) stats: UsageStatsResponse;
  @ApiProperty({ type: QuotaUsageViewResponse }) quota: QuotaUsageViewResponse;
  @ApiProperty({ type: [StatusChangeResponse], description: 'Changes of status the audit trail still holds, oldest first' })
  statusHistory: StatusChangeResponse[];
  @ApiProperty({ type: AvatarExportResponse, nullable: true }) avatar: AvatarExportResponse | null;
  @ApiProperty({ type: [AuditEntryResponse], description: 'The whole audit trail (AUDIT_RETENTION_DAYS), oldest first' })
  auditTrail: AuditEntryResponse[];
}
