import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateJwtBearerJtis1764000007000 implements MigrationInterface {
  name = 'CreateJwtBearerJtis1764000007000';

  async up(q: QueryRunner): Promise<void> {
    // RFC 7523 §3 (7): an assertion's jti is used once. The primary key makes the check one
    // statement (INSERT … ON CONFLICT … RETURNING), safe across concurrent requests and replicas.
    // Scope of uniqueness: the tenant (the issuer of the assertion is the tenant's backend,
    // whichever of its registered keys signed it). Rows are kept until the assertion expires.
    await q.query(`
      CREATE TABLE jwt_bearer_jtis (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        jti varchar(256) NOT NULL,
        kid varchar(64) NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT jwt_bearer_jtis_pkey PRIMARY KEY (tenant_id, jti)
      )`);
    await q.query(`CREATE INDEX jwt_bearer_jtis_expires_idx ON jwt_bearer_jtis (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE jwt_bearer_jtis`);
  }
}
