import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-tenant bounds on stored revocation state (docs/adr/0013-registered-token-trust.md,
 * README "Revocation limits").
 *
 * - (tenant_id, expires_at) indexes: the cap counts a tenant's rows still in force with an
 *   index-only scan, under a per-tenant advisory lock taken by the inserting transaction.
 * - New jtis are at most 256 characters. NOT VALID: rows written before keep their length
 *   until they expire (at most a day), and are not re-checked.
 */
export class RevocationLimits1796119201000 implements MigrationInterface {
  name = 'RevocationLimits1796119201000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX revoked_jtis_tenant_expires_idx ON revoked_jtis (tenant_id, expires_at)`);
    await q.query(`CREATE INDEX subject_cutoffs_tenant_expires_idx ON subject_cutoffs (tenant_id, expires_at)`);
    await q.query(`ALTER TABLE revoked_jtis ADD CONSTRAINT revoked_jtis_jti_length CHECK (length(jti) <= 256) NOT VALID`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE revoked_jtis DROP CONSTRAINT revoked_jtis_jti_length`);
    await q.query(`DROP INDEX subject_cutoffs_tenant_expires_idx`);
    await q.query(`DROP INDEX revoked_jtis_tenant_expires_idx`);
  }
}
