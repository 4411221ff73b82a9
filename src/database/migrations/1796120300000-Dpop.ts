import { MigrationInterface, QueryRunner } from 'typeorm';

/** DPoP (RFC 9449, docs/adr/0019-dpop.md): proof replay, bound refresh families, and the settings that require DPoP. */
export class Dpop1796120300000 implements MigrationInterface {
  name = 'Dpop1796120300000';

  async up(q: QueryRunner): Promise<void> {
    // RFC 9449 §11.1: a proof's jti is used once within its window on every replica. The primary
    // key makes that one statement (INSERT … ON CONFLICT DO NOTHING RETURNING); the jti is scoped to
    // the key (jkt) that signed it, so one client cannot use up another's jtis. Rows go after expires_at.
    await q.query(`
      CREATE TABLE dpop_proof_jtis (
        jkt varchar(64) NOT NULL,
        jti varchar(256) NOT NULL,
        expires_at timestamptz NOT NULL,
        CONSTRAINT dpop_proof_jtis_pkey PRIMARY KEY (jkt, jti)
      )`);
    await q.query(`CREATE INDEX dpop_proof_jtis_expires_idx ON dpop_proof_jtis (expires_at)`);
    // The key a public caller's refresh family is bound to (RFC 9449 §5): its rotation needs a proof signed by it.
    await q.query(`ALTER TABLE refresh_families ADD COLUMN dpop_jkt varchar(64)`);
    await q.query(`ALTER TABLE tenants ADD COLUMN require_dpop boolean NOT NULL DEFAULT false`);
    // RFC 9449 §5.2 client metadata dpop_bound_access_tokens: this client's tokens are always DPoP-bound.
    await q.query(`ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients DROP COLUMN dpop_bound_access_tokens`);
    await q.query(`ALTER TABLE tenants DROP COLUMN require_dpop`);
    await q.query(`ALTER TABLE refresh_families DROP COLUMN dpop_jkt`);
    await q.query(`DROP TABLE dpop_proof_jtis`);
  }
}
