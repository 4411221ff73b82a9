import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * audit_events becomes strictly append-only: besides UPDATE (refused since 1764000006000),
 * DELETE and TRUNCATE are refused too. Nothing in Tessera deletes audit events; there is no
 * retention job. Security events are few (key, client and API-key changes, revocations, reuse
 * detections — nothing per issued token), so the table grows slowly. An operator who must
 * prune it does so deliberately, as the table owner, in one transaction:
 *   BEGIN; ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_delete;
 *   DELETE FROM audit_events WHERE created_at < now() - interval '2 years';
 *   ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_delete; COMMIT;
 * The triggers stop the application and hand-written SQL by mistake; they do not stop the
 * table's owner, who can drop them (run Tessera as a role that does not own the table and has
 * only INSERT and SELECT on it when that matters, and ship the log elsewhere for tamper evidence).
 */
export class AuditAppendOnly1764000008000 implements MigrationInterface {
  name = 'AuditAppendOnly1764000008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
      END
      $$`);
    await q.query(
      `CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_immutable()`,
    );
    await q.query(
      `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER audit_events_no_truncate ON audit_events`);
    await q.query(`DROP TRIGGER audit_events_no_delete ON audit_events`);
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only';
      END
      $$`);
  }
}
