import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Proof of possession for registered keys (docs/adr/0012-registered-key-proof.md).
 *
 * - `proven`: the registration carried a proof signed by the key's private half. Keys
 *   registered before this migration never did, so they start unproven.
 * - `displaced_at`: an unproven registration that lost its kid to another tenant's proven
 *   one. It is also soft-deleted and inactive, and verifies nothing.
 * - The primary key becomes (tenant_id, kid): a tenant still gets 409 for the same key
 *   twice (even after a delete), but another tenant's unproven claim no longer blocks the
 *   real holder for good.
 * - At most one row per kid that is not displaced (so at most one tenant verifies a kid),
 *   and at most one proven row per kid, ever (a proven key that was deleted stays revoked).
 */
export class RegisteredKeyProof1796119200000 implements MigrationInterface {
  name = 'RegisteredKeyProof1796119200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registered_keys ADD COLUMN proven boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE registered_keys ADD COLUMN displaced_at timestamptz`);
    await q.query(`ALTER TABLE registered_keys DROP CONSTRAINT registered_keys_pkey`);
    await q.query(`ALTER TABLE registered_keys ADD CONSTRAINT registered_keys_pkey PRIMARY KEY (tenant_id, kid)`);
    await q.query(`CREATE UNIQUE INDEX registered_keys_kid_holder_uq ON registered_keys (kid) WHERE displaced_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX registered_keys_kid_proven_uq ON registered_keys (kid) WHERE proven`);
    // A displaced row is never live: it cannot be switched back on behind the proven holder's back.
    await q.query(`
      ALTER TABLE registered_keys ADD CONSTRAINT registered_keys_displaced_dead
        CHECK (displaced_at IS NULL OR (deleted_at IS NOT NULL AND NOT is_active AND NOT proven))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Displaced rows have another tenant's proven row with the same kid; the old primary key
    // (kid alone) cannot hold both, and a displaced row verifies nothing anyway.
    await q.query(`DELETE FROM registered_keys WHERE displaced_at IS NOT NULL`);
    await q.query(`ALTER TABLE registered_keys DROP CONSTRAINT registered_keys_displaced_dead`);
    await q.query(`DROP INDEX registered_keys_kid_proven_uq`);
    await q.query(`DROP INDEX registered_keys_kid_holder_uq`);
    await q.query(`ALTER TABLE registered_keys DROP CONSTRAINT registered_keys_pkey`);
    await q.query(`ALTER TABLE registered_keys ADD CONSTRAINT registered_keys_pkey PRIMARY KEY (kid)`);
    await q.query(`ALTER TABLE registered_keys DROP COLUMN displaced_at`);
    await q.query(`ALTER TABLE registered_keys DROP COLUMN proven`);
  }
}
