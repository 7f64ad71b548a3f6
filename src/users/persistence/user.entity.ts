import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { PreferencesFields } from '../domain/preferences';

/** bigint columns come back from pg as strings; keep them exact as bigint. */
export const bigintColumn = {
  to: (value: bigint | null | undefined) => (value === null || value === undefined ? value : value.toString()),
  from: (value: string | null) => (value === null ? null : BigInt(value)),
};

/** search_text: full name, email and company name, lower-cased, accents removed (search_fold, migration CreateUserDirectory). */
export const SEARCH_TEXT = `search_fold(coalesce(full_name, '') || E'\\n' || coalesce(email, '') || E'\\n' || coalesce(company_name, ''))`;

/** The schema the migrations build (`npm run migration:generate` finds no difference): defaults, checks, indexes. */
@Entity('users')
@Check('users_status_check', `status IN ('active', 'suspended', 'deleted', 'erased')`)
// Erased rows hold no personal datum; every other row has its identity and name.
@Check(
  'users_personal_data_check',
  `CASE WHEN status = 'erased'
    THEN keycloak_id IS NULL AND email IS NULL AND full_name IS NULL AND company_name IS NULL AND phone IS NULL
      AND bio IS NULL AND avatar_url IS NULL AND suspension_reason IS NULL
    ELSE keycloak_id IS NOT NULL AND email IS NOT NULL AND full_name IS NOT NULL END`,
)
@Check('users_counters_check', 'interviews_created >= 0 AND interviews_active >= 0 AND candidates_total >= 0 AND storage_used >= 0')
// Only live users hold their email and Keycloak id: a deleted user's may register again.
@Index('users_email_live_key', ['email'], { unique: true, where: 'deleted_at IS NULL' })
@Index('users_keycloak_id_live_key', ['keycloakId'], { unique: true, where: 'deleted_at IS NULL' })
// The directory's (GET /api/v1/users): one index per sort, ending in id (keyset pages), and the exact filters'.
@Index('idx_users_created_at_id', ['createdAt', 'id'])
@Index('idx_users_updated_at_id', ['updatedAt', 'id'])
@Index('idx_users_email_deleted', ['email'], { where: 'deleted_at IS NOT NULL' })
@Index('idx_users_keycloak_id_deleted', ['keycloakId'], { where: 'deleted_at IS NOT NULL' })
// Expression and trigram indexes TypeORM cannot express (migration CreateUserDirectory builds them).
@Index('idx_users_search', { synchronize: false })
@Index('idx_users_full_name_id', { synchronize: false })
@Index('idx_users_company_name', { synchronize: false })
@Index('idx_users_language', { synchronize: false })
@Index('idx_users_suspended_until', ['suspendedUntil'], { where: `status = 'suspended'` })
@Index('idx_users_deleted_at', ['deletedAt'], { where: `status = 'deleted'` })
export class UserEntity {
  // The column defaults to gen_random_uuid(), though the service sets every id itself (User.create).
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' }) id: string;
  // Null only once erased (users_personal_data_check).
  @Column({ name: 'keycloak_id', type: 'varchar', length: 255, nullable: true }) keycloakId: string | null;
  @Column({ type: 'varchar', length: 255, nullable: true }) email: string | null;
  @Column({ type: 'varchar', length: 20, default: 'active' }) status: string;

  @Column({ name: 'full_name', type: 'varchar', length: 255, nullable: true }) fullName: string | null;
  @Column({ name: 'company_name', type: 'varchar', length: 255, nullable: true }) companyName: string | null;
  @Column({ type: 'varchar', length: 50, nullable: true }) phone: string | null;
  @Column({ type: 'text', nullable: true }) bio: string | null;
  @Column({ name: 'avatar_url', type: 'text', nullable: true }) avatarUrl: string | null;
  @Column({ name: 'avatar_keys', type: 'text', array: true, default: [] }) avatarKeys: string[];

  @Column({ name: 'interviews_created', type: 'int', default: 0 }) interviewsCreated: number;
  @Column({ name: 'interviews_active', type: 'int', default: 0 }) interviewsActive: number;
  @Column({ name: 'candidates_total', type: 'int', default: 0 }) candidatesTotal: number;
  @Column({ name: 'storage_used', type: 'bigint', default: 0, transformer: bigintColumn }) storageUsed: bigint;

  @Column({ name: 'max_interviews', type: 'int', default: 10 }) maxInterviews: number;
  @Column({ name: 'max_storage', type: 'bigint', default: 5368709120, transformer: bigintColumn }) maxStorage: bigint;

  @Column({ type: 'jsonb', default: {} }) preferences: PreferencesFields;
  @Column({ type: 'int', default: 1 }) version: number;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;

  // What the directory's q searches; PostgreSQL computes it (never written or read as a field).
  @Column({
    name: 'search_text',
    type: 'text',
    generatedType: 'STORED',
    asExpression: SEARCH_TEXT,
    insert: false,
    update: false,
    select: false,
  })
  searchText: string;
  @Column({ name: 'erased_at', type: 'timestamptz', nullable: true }) erasedAt: Date | null;

  @Column({ name: 'suspension_reason', type: 'varchar', length: 500, nullable: true }) suspensionReason: string | null;
  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true }) suspendedAt: Date | null;
  @Column({ name: 'suspended_until', type: 'timestamptz', nullable: true }) suspendedUntil: Date | null;
  @Column({ name: 'legal_hold_reason', type: 'varchar', length: 500, nullable: true }) legalHoldReason: string | null;
  @Column({ name: 'legal_hold_at', type: 'timestamptz', nullable: true }) legalHoldAt: Date | null;
}
