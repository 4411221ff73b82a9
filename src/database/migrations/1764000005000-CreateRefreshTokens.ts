import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh tokens: one family per grant, one row per generation. Only SHA-256 hashes of
 * tokens are stored. `(family_id, generation)` and `parent_id` are unique, so a family can
 * never branch, whatever the concurrency: rotation itself is a conditional UPDATE.
 */
export class CreateRefreshTokens1764000005000 implements MigrationInterface {
  name = 'CreateRefreshTokens1764000005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE refresh_families (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        sub text NOT NULL,
        client_id varchar(255),
        scope text NOT NULL DEFAULT '',
        audience text[] NOT NULL,
        claims jsonb,
        access_token_ttl integer NOT NULL CHECK (access_token_ttl > 0),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason varchar(32),
        CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
      )`);
    await q.query(`CREATE INDEX refresh_families_subject_idx ON refresh_families (tenant_id, sub) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX refresh_families_expires_idx ON refresh_families (expires_at)`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        family_id uuid NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
        generation integer NOT NULL CHECK (generation >= 0),
        parent_id uuid REFERENCES refresh_tokens(id) ON DELETE CASCADE,
        token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL,
        CONSTRAINT refresh_tokens_hash_uq UNIQUE (token_hash),
        CONSTRAINT refresh_tokens_generation_uq UNIQUE (family_id, generation),
        CONSTRAINT refresh_tokens_parent_uq UNIQUE (parent_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE refresh_families`);
  }
}
