// Bulk seeding for the scale scenario: refresh families with their generations and denylisted
// jtis, written by generate_series in bounded batches, with progress on stderr.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Adds `families` refresh families of `generations` rows each (the older ones used, the newest
 * live) and `revokedJtis` revoked_jtis rows with a future expiry, all for `tenantId`. Triggers
 * (the denylist NOTIFY, foreign-key checks) are off for the seeding session only
 * (session_replication_role = replica): the rows are consistent by construction, and the
 * service reads the denylist when it next starts. Fails past `deadlineMs`.
 */
export async function seedScale(databaseUrl, { tenantId, families, generations = 2, revokedJtis, batch = 50_000, deadlineMs = 600_000 }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  const salt = randomBytes(8).toString('hex');
  const progress = (what, done, total) =>
    process.stderr.write(
      `  seeding ${what}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  const checkDeadline = () => {
    if (Date.now() - started > deadlineMs) throw new Error(`seeding exceeded ${deadlineMs / 1000} s`);
  };
  try {
    await client.query(`SET session_replication_role = replica`);
    await client.query(`SET statement_timeout = ${Math.max(1000, deadlineMs)}`);
    for (let from = 1; from <= families; from += batch) {
      checkDeadline();
      const to = Math.min(families, from + batch - 1);
      // One row per (family, generation); ids drawn once so the parent of generation g is the row of g − 1.
      await client.query(
        `WITH src AS (
           SELECT g, gen_random_uuid() AS fid, array_agg(gen_random_uuid()) AS ids
           FROM generate_series($2::int, $3::int) g, generate_series(0, $4::int - 1) k
           GROUP BY g),
         fam AS (
           INSERT INTO refresh_families (id, tenant_id, sub, scope, audience, access_token_ttl, created_at, expires_at)
           SELECT fid, $1, 'seed-user-' || g, 'read', ARRAY['https://seed.invalid'], 600, now(), now() + interval '30 days' FROM src)
         INSERT INTO refresh_tokens (id, family_id, generation, parent_id, token_hash, tenant_id, expires_at, used_at, created_at)
         SELECT ids[k + 1], fid, k, CASE WHEN k = 0 THEN NULL ELSE ids[k] END,
                sha256(convert_to($5 || ':' || g || ':' || k, 'UTF8')), $1, now() + interval '30 days',
                CASE WHEN k < $4::int - 1 THEN now() END, now()
         FROM src, generate_series(0, $4::int - 1) k`,
        [tenantId, from, to, generations, salt],
      );
      progress('refresh families', to, families);
    }
    for (let from = 1; from <= revokedJtis; from += batch) {
      checkDeadline();
      const to = Math.min(revokedJtis, from + batch - 1);
      await client.query(
        `INSERT INTO revoked_jtis (tenant_id, jti, expires_at)
         SELECT $1, gen_random_uuid()::text, now() + interval '1 day' FROM generate_series($2::int, $3::int)`,
        [tenantId, from, to],
      );
      progress('revoked jtis', to, revokedJtis);
    }
    await client.query(`RESET session_replication_role`);
    checkDeadline();
    await client.query(`VACUUM ANALYZE refresh_families, refresh_tokens, revoked_jtis`);
    // Write the seeded pages out now, so the measurements that follow do not share the disk with
    // the checkpointer flushing a few hundred MB (a steady state, as in production).
    await client.query(`CHECKPOINT`);
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM refresh_tokens)::int AS tokens, (SELECT count(*) FROM refresh_families)::int AS families,
              (SELECT count(*) FROM revoked_jtis)::int AS jtis, pg_size_pretty(pg_total_relation_size('refresh_tokens')) AS size`,
    );
    process.stderr.write(`  seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(rows[0])}\n`);
    return { ...rows[0], seconds: (Date.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}
