import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsInt, IsObject, IsOptional, IsString, ValidateIf, ValidateNested } from 'class-validator';

// Shapes only: types, nesting, no unknown fields. Lengths and formats are checked by the domain.

const presentOrNull = (field: string) => ValidateIf((o: Record<string, unknown>) => o[field] !== undefined && o[field] !== null);

export class NewProfileDto {
  @IsString() fullName: string;
  @presentOrNull('companyName') @IsString() companyName?: string | null;
  @presentOrNull('phone') @IsString() phone?: string | null;
  @presentOrNull('bio') @IsString() bio?: string | null;
}

export class CreateUserDto {
  @IsString() keycloakId: string;
  @IsString() email: string;
  @IsDefined() @IsObject() @ValidateNested() @Type(() => NewProfileDto) profile: NewProfileDto;
}

export class ProfilePatchDto {
  // fullName may be absent but not null: a user always has a name.
  @ValidateIf((o: ProfilePatchDto) => o.fullName !== undefined) @IsString() fullName?: string;
  @presentOrNull('companyName') @IsString() companyName?: string | null;
  @presentOrNull('phone') @IsString() phone?: string | null;
  @presentOrNull('bio') @IsString() bio?: string | null;
}

export class UpdateUserDto {
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ProfilePatchDto) profile?: ProfilePatchDto;
}

export class NotificationsPatchDto {
  @IsOptional() @IsBoolean() email?: boolean;
  @IsOptional() @IsBoolean() productNews?: boolean;
  @IsOptional() @IsBoolean() interviewReminders?: boolean;
}

export class UpdatePreferencesDto {
  @IsOptional() @IsString() language?: string;
  @IsOptional() @IsString() timezone?: string;
  @IsOptional() @IsObject() @ValidateNested() @Type(() => NotificationsPatchDto) notifications?: NotificationsPatchDto;
}

/** Both limits at once, as a plan defines them; ranges are the domain's (Quota.create). */
export class SetQuotaDto {
  @IsInt() maxInterviews: number;
  /** Bytes. */
  @IsInt() maxStorage: number;
}
