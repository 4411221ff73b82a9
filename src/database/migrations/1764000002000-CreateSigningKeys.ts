import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSigningKeys1764000002000 implements MigrationInterface {
  name = 'CreateSigningKeys1764000002000';

  async up(q: QueryRunner): Promise<void> {
    // Tessera's own key pairs. The private half is AES-256-GCM ciphertext (PKCS#8 DER) with its
    // IV and tag; kek_id names the key-encryption key that wrote it, so that key can be rotated.
    await q.query(`
      CREATE TABLE signing_keys (
        kid varchar(64) PRIMARY KEY,
        algorithm varchar(10) NOT NULL CHECK (algorithm IN ('RS256', 'PS256', 'ES256', 'EdDSA')),
        status varchar(10) NOT NULL CHECK (status IN ('pending', 'active', 'retiring', 'retired')),
        public_jwk jsonb NOT NULL
          CHECK (jsonb_typeof(public_jwk) = 'object' AND NOT public_jwk ?| array['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']),
        private_key_ciphertext bytea NOT NULL,
        private_key_iv bytea NOT NULL,
        private_key_tag bytea NOT NULL,
        kek_id varchar(32) NOT NULL,
        created_at timestamptz NOT NULL,
        activates_at timestamptz NOT NULL,
        activated_at timestamptz,
        retiring_at timestamptz,
        retire_at timestamptz,
        retired_at timestamptz
      )`);
    // The lifecycle rules that must hold whatever the number of replicas.
    await q.query(`CREATE UNIQUE INDEX signing_keys_one_active_per_alg ON signing_keys (algorithm) WHERE status = 'active'`);
    await q.query(`CREATE UNIQUE INDEX signing_keys_one_pending_per_alg ON signing_keys (algorithm) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX signing_keys_published_idx ON signing_keys (status) WHERE status <> 'retired'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE signing_keys`);
  }
}
