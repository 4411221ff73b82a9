import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * NOTIFY `tessera_credentials` whenever a row that a replica may hold in a cache changes:
 * an API key (revoked), a client (deleted), a tenant (disabled, deleted, TTL limits), a
 * registered key (registered, deactivated, deleted, displaced). Every replica LISTENs and
 * drops what the payload names (src/auth/credential-changes.service.ts), so a revocation
 * made on one replica — or by hand in SQL — reaches the others within a second
 * (docs/adr/0017-revocation-propagation.md). Payloads name rows only, never a secret or key.
 *
 * Only the columns caches hold fire the triggers: `api_keys.last_used_at`, a tenant's or a
 * client's name, and the like notify nothing.
 */
export class CredentialChangeNotify1796119500000 implements MigrationInterface {
  name = 'CredentialChangeNotify1796119500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION tessera_credentials_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        r record;
        payload json;
      BEGIN
        IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
        IF TG_TABLE_NAME = 'api_keys' THEN
          payload := json_build_object('t', 'api_key', 'tenantId', r.tenant_id, 'prefix', r.prefix);
        ELSIF TG_TABLE_NAME = 'clients' THEN
          payload := json_build_object('t', 'client', 'tenantId', r.tenant_id, 'clientId', r.client_id);
        ELSIF TG_TABLE_NAME = 'tenants' THEN
          payload := json_build_object('t', 'tenant', 'tenantId', r.id);
        ELSE
          payload := json_build_object('t', 'registered_key', 'tenantId', r.tenant_id, 'kid', r.kid);
        END IF;
        PERFORM pg_notify('tessera_credentials', payload::text);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER api_keys_credentials_notify AFTER UPDATE OF revoked_at, key_hash, tenant_id OR DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION tessera_credentials_notify()`);
    await q.query(`
      CREATE TRIGGER clients_credentials_notify AFTER UPDATE OF deleted_at, secret_hash, scopes, tenant_id OR DELETE ON clients
      FOR EACH ROW EXECUTE FUNCTION tessera_credentials_notify()`);
    await q.query(`
      CREATE TRIGGER tenants_credentials_notify
      AFTER UPDATE OF is_disabled, deleted_at, access_token_max_ttl, registered_token_max_ttl OR DELETE ON tenants
      FOR EACH ROW EXECUTE FUNCTION tessera_credentials_notify()`);
    // INSERT too: a replica may hold "no such key" for a kid that was just registered.
    await q.query(`
      CREATE TRIGGER registered_keys_credentials_notify AFTER INSERT OR UPDATE OR DELETE ON registered_keys
      FOR EACH ROW EXECUTE FUNCTION tessera_credentials_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER registered_keys_credentials_notify ON registered_keys`);
    await q.query(`DROP TRIGGER tenants_credentials_notify ON tenants`);
    await q.query(`DROP TRIGGER clients_credentials_notify ON clients`);
    await q.query(`DROP TRIGGER api_keys_credentials_notify ON api_keys`);
    await q.query(`DROP FUNCTION tessera_credentials_notify()`);
  }
}
