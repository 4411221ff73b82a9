import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Denylist notifications carry `ts`, the time (epoch milliseconds, the database's clock) the
 * change was written, so that every replica can measure how long a revocation took to reach
 * it (tessera_revocation_propagation_seconds). The payload is otherwise unchanged, and a
 * replica that does not know `ts` ignores it.
 */
export class NotifyTimestamps1796119400000 implements MigrationInterface {
  name = 'NotifyTimestamps1796119400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(notifyFunction(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(notifyFunction(false));
  }
}

/** tessera_denylist_notify() as in 1764000004000, with or without the `ts` field. */
function notifyFunction(withTimestamp: boolean): string {
  const ts = withTimestamp ? `, 'ts', floor(extract(epoch FROM clock_timestamp()) * 1000)` : '';
  return `
    CREATE OR REPLACE FUNCTION tessera_denylist_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      payload text;
    BEGIN
      IF TG_TABLE_NAME = 'revoked_jtis' THEN
        payload := json_build_object('t', 'jti', 'tenantId', NEW.tenant_id, 'jti', NEW.jti,
          'exp', floor(extract(epoch FROM NEW.expires_at))${ts})::text;
      ELSIF TG_TABLE_NAME = 'subject_cutoffs' THEN
        payload := json_build_object('t', 'sub', 'tenantId', NEW.tenant_id, 'sub', NEW.sub,
          'nbf', floor(extract(epoch FROM NEW.not_before)), 'exp', floor(extract(epoch FROM NEW.expires_at))${ts})::text;
      ELSE
        payload := json_build_object('t', 'tenant', 'tenantId', NEW.id,
          'blocked', NEW.is_disabled OR NEW.deleted_at IS NOT NULL${ts})::text;
      END IF;
      IF octet_length(payload) > 7900 THEN
        payload := json_build_object('t', 'reload'${ts})::text;
      END IF;
      PERFORM pg_notify('tessera_denylist', payload);
      RETURN NULL;
    END
    $$`;
}
