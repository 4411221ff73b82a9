import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The revocation denylist: revoked access-token jtis and per-subject cut-offs, each kept
 * until the tokens it covers have expired. Triggers NOTIFY `tessera_denylist` on every
 * change (delivered at commit), so every replica's in-memory copy follows within a second;
 * a tenant that is disabled or deleted (or enabled again) is announced the same way.
 */
export class CreateRevocations1764000004000 implements MigrationInterface {
  name = 'CreateRevocations1764000004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE revoked_jtis (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        jti text NOT NULL CHECK (length(jti) BETWEEN 1 AND 8192),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, jti)
      )`);
    await q.query(`CREATE INDEX revoked_jtis_expires_idx ON revoked_jtis (expires_at)`);
    await q.query(`
      CREATE TABLE subject_cutoffs (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        sub text NOT NULL CHECK (length(sub) BETWEEN 1 AND 8192),
        not_before timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, sub)
      )`);
    await q.query(`CREATE INDEX subject_cutoffs_expires_idx ON subject_cutoffs (expires_at)`);

    // Payloads are small JSON documents; one that would not fit NOTIFY's 8000-byte limit (a jti or
    // sub of several kilobytes) is replaced by "reload", and listeners reload everything instead.
    await q.query(`
      CREATE FUNCTION tessera_denylist_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        payload text;
      BEGIN
        IF TG_TABLE_NAME = 'revoked_jtis' THEN
          payload := json_build_object('t', 'jti', 'tenantId', NEW.tenant_id, 'jti', NEW.jti,
            'exp', floor(extract(epoch FROM NEW.expires_at)))::text;
        ELSIF TG_TABLE_NAME = 'subject_cutoffs' THEN
          payload := json_build_object('t', 'sub', 'tenantId', NEW.tenant_id, 'sub', NEW.sub,
            'nbf', floor(extract(epoch FROM NEW.not_before)), 'exp', floor(extract(epoch FROM NEW.expires_at)))::text;
        ELSE
          payload := json_build_object('t', 'tenant', 'tenantId', NEW.id,
            'blocked', NEW.is_disabled OR NEW.deleted_at IS NOT NULL)::text;
        END IF;
        IF octet_length(payload) > 7900 THEN
          payload := '{"t":"reload"}';
        END IF;
        PERFORM pg_notify('tessera_denylist', payload);
        RETURN NULL;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER revoked_jtis_notify AFTER INSERT OR UPDATE ON revoked_jtis
      FOR EACH ROW EXECUTE FUNCTION tessera_denylist_notify()`);
    await q.query(`
      CREATE TRIGGER subject_cutoffs_notify AFTER INSERT OR UPDATE ON subject_cutoffs
      FOR EACH ROW EXECUTE FUNCTION tessera_denylist_notify()`);
    await q.query(`
      CREATE TRIGGER tenants_block_notify AFTER UPDATE OF is_disabled, deleted_at ON tenants
      FOR EACH ROW WHEN (OLD.is_disabled IS DISTINCT FROM NEW.is_disabled OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
      EXECUTE FUNCTION tessera_denylist_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER tenants_block_notify ON tenants`);
    await q.query(`DROP TABLE subject_cutoffs`);
    await q.query(`DROP TABLE revoked_jtis`);
    await q.query(`DROP FUNCTION tessera_denylist_notify()`);
  }
}
