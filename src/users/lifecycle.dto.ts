import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';

// Shapes of the lifecycle and privacy routes' bodies and query strings; the domain checks the rest.

export class SuspendUserDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 500,
    description: 'Shown to the person with their record',
    example: 'Repeated spam to candidates',
  })
  @IsString()
  reason: string;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the suspension ends by itself (must be in the future); absent or null: until reactivated',
    example: '2026-12-31T00:00:00Z',
  })
  @ValidateIf((o: SuspendUserDto) => o.until !== undefined && o.until !== null)
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date-time' })
  until?: string | null;
}

export class LegalHoldDto {
  @ApiProperty({ minLength: 1, maxLength: 500, example: 'Litigation hold, case 2026-114' })
  @IsString()
  reason: string;
}

export class AuditQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: ['avatar'], description: 'avatar: every avatar variant also as a data URL (its bytes)' })
  @IsOptional()
  @IsIn(['avatar'])
  include?: 'avatar';
}
