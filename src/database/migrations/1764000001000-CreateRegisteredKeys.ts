import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRegisteredKeys1764000001000 implements MigrationInterface {
  name = 'CreateRegisteredKeys1764000001000';

  async up(q: QueryRunner): Promise<void> {
    // kid is the RFC 7638 thumbprint: one key belongs to one tenant, and the row stays after
    // a (soft) delete, so a revoked key can never be registered again, by anyone.
    // fingerprint: SHA-256 of the SPKI DER as 32 upper-case hex pairs joined by colons (95 chars).
    await q.query(`
      CREATE TABLE registered_keys (
        kid varchar(64) NOT NULL,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        label varchar(100) NOT NULL,
        algorithm varchar(10) NOT NULL
          CHECK (algorithm IN ('RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA')),
        public_jwk jsonb NOT NULL
          CHECK (jsonb_typeof(public_jwk) = 'object' AND NOT public_jwk ?| array['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']),
        fingerprint varchar(95) NOT NULL,
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT registered_keys_pkey PRIMARY KEY (kid)
      )`);
    await q.query(`CREATE INDEX registered_keys_tenant_idx ON registered_keys (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE registered_keys`);
  }
}
