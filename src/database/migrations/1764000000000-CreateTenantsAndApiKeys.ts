import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTenantsAndApiKeys1764000000000 implements MigrationInterface {
  name = 'CreateTenantsAndApiKeys1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        is_disabled boolean NOT NULL DEFAULT false,
        access_token_max_ttl integer NOT NULL DEFAULT 600 CHECK (access_token_max_ttl BETWEEN 10 AND 86400),
        registered_token_max_ttl integer NOT NULL DEFAULT 600 CHECK (registered_token_max_ttl BETWEEN 10 AND 86400),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    // A name is unique among live tenants; a deleted tenant frees its name.
    await q.query(`CREATE UNIQUE INDEX tenants_name_live_uq ON tenants (lower(name)) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        label varchar(100),
        prefix varchar(16) NOT NULL,
        key_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    // The visible prefix is the lookup key; the hash is then compared in constant time.
    await q.query(`CREATE UNIQUE INDEX api_keys_prefix_uq ON api_keys (prefix)`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE tenants`);
  }
}
