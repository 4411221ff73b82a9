import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateClients1764000003000 implements MigrationInterface {
  name = 'CreateClients1764000003000';

  async up(q: QueryRunner): Promise<void> {
    // client_id is a readable random id (tcl_…), unique for good: a deleted client keeps its row,
    // so its id can never authenticate again or be handed to someone else.
    // secret_hash: SHA-256 of a 256-bit random secret (compared in constant time), never the secret.
    await q.query(`
      CREATE TABLE clients (
        client_id varchar(64) NOT NULL,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        name varchar(100) NOT NULL,
        scopes text[] NOT NULL DEFAULT '{}',
        secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT clients_pkey PRIMARY KEY (client_id)
      )`);
    await q.query(`CREATE INDEX clients_tenant_idx ON clients (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE clients`);
  }
}
