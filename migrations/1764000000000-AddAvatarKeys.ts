import { MigrationInterface, QueryRunner } from 'typeorm';

/** The storage keys of a user's current avatar objects, so that replacing or removing it can delete them. */
export class AddAvatarKeys1764000000000 implements MigrationInterface {
  name = 'AddAvatarKeys1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users ADD COLUMN avatar_keys TEXT[] NOT NULL DEFAULT '{}'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users DROP COLUMN avatar_keys`);
  }
}
