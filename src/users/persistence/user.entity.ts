import { Column, Entity, PrimaryColumn } from 'typeorm';
import { PreferencesFields } from '../domain/preferences';

/** bigint columns come back from pg as strings; keep them exact as bigint. */
export const bigintColumn = {
  to: (value: bigint | null | undefined) => (value === null || value === undefined ? value : value.toString()),
  from: (value: string | null) => (value === null ? null : BigInt(value)),
};

@Entity('users')
export class UserEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'keycloak_id', type: 'varchar', length: 255 }) keycloakId: string;
  @Column({ type: 'varchar', length: 255 }) email: string;
  @Column({ type: 'varchar', length: 20 }) status: string;

  @Column({ name: 'full_name', type: 'varchar', length: 255 }) fullName: string;
  @Column({ name: 'company_name', type: 'varchar', length: 255, nullable: true }) companyName: string | null;
  @Column({ type: 'varchar', length: 50, nullable: true }) phone: string | null;
  @Column({ type: 'text', nullable: true }) bio: string | null;
  @Column({ name: 'avatar_url', type: 'text', nullable: true }) avatarUrl: string | null;
  @Column({ name: 'avatar_keys', type: 'text', array: true }) avatarKeys: string[];

  @Column({ name: 'interviews_created', type: 'int' }) interviewsCreated: number;
  @Column({ name: 'interviews_active', type: 'int' }) interviewsActive: number;
  @Column({ name: 'candidates_total', type: 'int' }) candidatesTotal: number;
  @Column({ name: 'storage_used', type: 'bigint', transformer: bigintColumn }) storageUsed: bigint;

  @Column({ name: 'max_interviews', type: 'int' }) maxInterviews: number;
  @Column({ name: 'max_storage', type: 'bigint', transformer: bigintColumn }) maxStorage: bigint;

  @Column({ type: 'jsonb' }) preferences: PreferencesFields;
  @Column({ type: 'int' }) version: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
}
