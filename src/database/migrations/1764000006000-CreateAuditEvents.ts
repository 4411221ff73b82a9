import { MigrationInterface, QueryRunner } from 'typeorm';

/** Append-only log of security events. Never a token or secret in `details`. */
export class CreateAuditEvents1764000006000 implements MigrationInterface {
  name = 'CreateAuditEvents1764000006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid REFERENCES tenants(id),
        type varchar(64) NOT NULL,
        actor varchar(200) NOT NULL,
        subject text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        request_id varchar(64),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX audit_events_created_idx ON audit_events (created_at, id)`);
    // Append-only: rows are never changed (deleting old rows stays possible for retention).
    await q.query(`
      CREATE FUNCTION audit_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only';
      END
      $$`);
    await q.query(
      `CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_immutable()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_immutable()`);
  }
}
