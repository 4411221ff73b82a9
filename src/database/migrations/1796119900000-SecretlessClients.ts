import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Secretless clients (docs/adr/0018-secretless-clients.md):
 * - clients authenticate with a secret (client_secret_basic/_post, as before) or with
 *   `private_key_jwt` (RFC 7523 §2.2) against their own `jwks` or `jwks_uri`; such a client has
 *   no secret, and the CHECK keeps the two kinds apart;
 * - `trusted_issuers`: a tenant's external issuers (Kubernetes, GitHub Actions, SPIFFE) whose
 *   tokens authenticate as one of its clients;
 * - `client_assertion_jtis`: single use of every client assertion (RFC 7523 §3 (7)), one
 *   INSERT … ON CONFLICT per use, keyed by the assertion's issuer (a client id, or the external
 *   issuer) so two issuers' ids never collide and one token is never accepted twice anywhere.
 */
export class SecretlessClients1796119900000 implements MigrationInterface {
  name = 'SecretlessClients1796119900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients ALTER COLUMN secret_hash DROP NOT NULL`);
    await q.query(`
      ALTER TABLE clients
        ADD COLUMN token_endpoint_auth_method varchar(32) NOT NULL DEFAULT 'client_secret_basic',
        ADD COLUMN jwks jsonb,
        ADD COLUMN jwks_uri varchar(2048),
        ADD CONSTRAINT clients_auth_method_check CHECK (
          (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post') AND secret_hash IS NOT NULL AND jwks IS NULL AND jwks_uri IS NULL)
          OR (token_endpoint_auth_method = 'private_key_jwt' AND secret_hash IS NULL AND (jwks IS NULL) <> (jwks_uri IS NULL))
        )`);
    await q.query(`
      CREATE TABLE trusted_issuers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        issuer varchar(1024) NOT NULL,
        jwks_uri varchar(2048),
        audience varchar(1024) NOT NULL,
        subject varchar(1024) NOT NULL,
        claims jsonb NOT NULL DEFAULT '{}',
        client_id varchar(64) NOT NULL REFERENCES clients(client_id),
        scopes text[],
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trusted_issuers_rule_key UNIQUE (tenant_id, issuer, audience, subject, claims, client_id)
      )`);
    // Authentication looks entries up by the token's issuer, across tenants.
    await q.query(`CREATE INDEX trusted_issuers_issuer_idx ON trusted_issuers (issuer)`);
    await q.query(`CREATE INDEX trusted_issuers_tenant_idx ON trusted_issuers (tenant_id, created_at)`);
    await q.query(`
      CREATE TABLE client_assertion_jtis (
        issuer varchar(1024) NOT NULL,
        jti varchar(256) NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT client_assertion_jtis_pkey PRIMARY KEY (issuer, jti)
      )`);
    await q.query(`CREATE INDEX client_assertion_jtis_expires_idx ON client_assertion_jtis (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE client_assertion_jtis`);
    await q.query(`DROP TABLE trusted_issuers`);
    await q.query(`DELETE FROM clients WHERE secret_hash IS NULL`);
    await q.query(
      `ALTER TABLE clients DROP CONSTRAINT clients_auth_method_check, DROP COLUMN jwks_uri, DROP COLUMN jwks, DROP COLUMN token_endpoint_auth_method`,
    );
    await q.query(`ALTER TABLE clients ALTER COLUMN secret_hash SET NOT NULL`);
  }
}
