import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsObject, IsOptional, IsString, ValidateIf, ValidateNested } from 'class-validator';
import { DEFAULT_RESERVATION_TTL_SECONDS, MAX_RESERVATION_TTL_SECONDS, QUOTA_RESOURCES, QuotaResource } from './domain/quota-reservation';

// Shapes only: types, nesting, no unknown fields. Lengths and formats are checked by the domain
// (the limits in the OpenAPI descriptions are the domain's).

const presentOrNull = (field: string) => ValidateIf((o: Record<string, unknown>) => o[field] !== undefined && o[field] !== null);
const optionalText = (description: string, maxLength: number, example?: string) =>
  ApiPropertyOptional({ type: String, nullable: true, maxLength, description, example });

export class NewProfileDto {
  @ApiProperty({ minLength: 2, maxLength: 100, example: 'Ann Smith' })
  @IsString()
  fullName: string;
  @optionalText('Blank or null: none', 100, 'Acme') @presentOrNull('companyName') @IsString() companyName?: string | null;
  @optionalText('Digits, spaces and + ( ) . / -', 50, '+1 555 0100') @presentOrNull('phone') @IsString() phone?: string | null;
  @optionalText('May span lines', 2000) @presentOrNull('bio') @IsString() bio?: string | null;
}

export class CreateUserDto {
  @ApiProperty({ description: "The person's Keycloak id; must equal the token's `sub` unless admin or internal", example: 'kc-demo' })
  @IsString()
  keycloakId: string;
  @ApiProperty({ format: 'email', description: 'Trimmed and lower-cased; unique among live users', example: 'ann@example.com' })
  @IsString()
  email: string;
  @ApiProperty({ type: NewProfileDto }) @IsDefined() @IsObject() @ValidateNested() @Type(() => NewProfileDto) profile: NewProfileDto;
}

export class ProfilePatchDto {
  // fullName may be absent but not null: a user always has a name.
  @ApiPropertyOptional({ minLength: 2, maxLength: 100 })
  @ValidateIf((o: ProfilePatchDto) => o.fullName !== undefined)
  @IsString()
  fullName?: string;
  @optionalText('null clears it', 100) @presentOrNull('companyName') @IsString() companyName?: string | null;
  @optionalText('null clears it', 50) @presentOrNull('phone') @IsString() phone?: string | null;
  @optionalText('null clears it', 2000) @presentOrNull('bio') @IsString() bio?: string | null;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ type: ProfilePatchDto, description: 'Absent fields stay unchanged' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ProfilePatchDto)
  profile?: ProfilePatchDto;
}

export class NotificationsPatchDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() email?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() productNews?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() interviewReminders?: boolean;
}

export class UpdatePreferencesDto {
  @ApiPropertyOptional({ description: 'BCP 47 tag, canonicalised (pt-br → pt-BR)', example: 'de-DE' })
  @IsOptional()
  @IsString()
  language?: string;
  @ApiPropertyOptional({ description: 'IANA time zone', example: 'Europe/Berlin' }) @IsOptional() @IsString() timezone?: string;
  @ApiPropertyOptional({ type: NotificationsPatchDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => NotificationsPatchDto)
  notifications?: NotificationsPatchDto;
}

/** Both limits at once, as a plan defines them; ranges are the domain's (Quota.create). */
export class SetQuotaDto {
  @ApiProperty({ minimum: 0, example: 25, description: 'Active interviews allowed' })
  @IsInt()
  maxInterviews: number;
  @ApiProperty({ minimum: 0, example: 10737418240, description: 'Bytes' })
  @IsInt()
  maxStorage: number;
}

/** A quota reservation; amounts, reference length and ttl are checked by the domain (reservationRequest). */
export class ReserveQuotaDto {
  @ApiProperty({ enum: QUOTA_RESOURCES, description: 'interviews: active interviews; storage: bytes' })
  @IsIn(QUOTA_RESOURCES)
  resource: QuotaResource;
  @ApiProperty({ minimum: 1, example: 1, description: 'Interviews (up to 2147483647) or bytes (up to 2^53−1)' })
  @IsInt()
  amount: number;
  @ApiProperty({
    minLength: 1,
    maxLength: 255,
    example: 'iv-1',
    description:
      "The id the consumed event will carry: interview.created's interviewId, media.uploaded's fileId; it settles the reservation",
  })
  @IsString()
  reference: string;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_RESERVATION_TTL_SECONDS, default: DEFAULT_RESERVATION_TTL_SECONDS })
  @IsOptional()
  @IsInt()
  ttlSeconds?: number;
}
