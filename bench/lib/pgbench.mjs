// pgbench of the refresh-rotation SQL Tessera runs (src/refresh/refresh-tokens.repository.ts,
// rotate()): one statement — the conditional UPDATE … RETURNING joined with family, tenant and
// subject cut-off, and the INSERT of the child from what it returned — durable. Each pgbench client walks its own chain,
// as each HTTP connection does in the Tessera measurement.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const SCRIPT = `
WITH used AS (
  UPDATE refresh_tokens t SET used_at = now()
    FROM refresh_families f
    JOIN tenants tn ON tn.id = f.tenant_id
    LEFT JOIN subject_cutoffs c ON c.tenant_id = f.tenant_id AND c.sub = f.sub
   WHERE t.token_hash = CASE WHEN :h = 'start'
                             THEN (SELECT token_hash FROM bench_chain_start WHERE n = :client_id)
                             ELSE decode(:h, 'hex') END
     AND f.id = t.family_id
     AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()
     AND f.revoked_at IS NULL AND f.expires_at > now()
     AND NOT tn.is_disabled AND tn.deleted_at IS NULL
     AND (c.not_before IS NULL OR f.created_at > c.not_before)
     AND CASE WHEN f.client_id IS NULL THEN true ELSE false END
  RETURNING t.id, t.family_id, t.generation, t.expires_at, t.used_at, t.revoked_at, f.tenant_id, f.sub, f.client_id, f.scope,
            f.audience, f.claims, f.access_token_ttl, f.created_at AS family_created_at, f.expires_at AS family_expires_at,
            f.revoked_at AS family_revoked_at, (tn.is_disabled OR tn.deleted_at IS NOT NULL) AS tenant_blocked,
            c.not_before AS subject_not_before, tn.access_token_max_ttl),
child AS (
  INSERT INTO refresh_tokens (family_id, generation, parent_id, token_hash, tenant_id, expires_at, created_at)
  SELECT family_id, generation + 1, id, sha256(convert_to(id::text, 'UTF8')), tenant_id, LEAST(now() + interval '14 days', family_expires_at), now() FROM used
  RETURNING expires_at AS child_expires_at, encode(token_hash, 'hex') AS h)
SELECT child.h FROM used CROSS JOIN child \\gset
`;

/** Seeds `clients` families (one chain each) in Tessera's schema at `databaseUrl`. */
async function seed(databaseUrl, tenantId, clients) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS bench_chain_start`);
  await c.query(`CREATE TABLE bench_chain_start (n int PRIMARY KEY, token_hash bytea NOT NULL)`);
  for (let n = 0; n < clients; n++) {
    const { rows } = await c.query(
      `INSERT INTO refresh_families (tenant_id, sub, scope, audience, access_token_ttl, created_at, expires_at)
       VALUES ($1, 'pgbench-' || $2, 'read', ARRAY['bench'], 600, now(), now() + interval '90 days') RETURNING id`,
      [tenantId, n],
    );
    const hash = `\\x${Buffer.from(`${n}-${Date.now()}`).toString('hex').padEnd(64, '0').slice(0, 64)}`;
    await c.query(
      `INSERT INTO refresh_tokens (family_id, generation, token_hash, tenant_id, expires_at, created_at) VALUES ($1, 0, $2, $3, now() + interval '14 days', now())`,
      [rows[0].id, hash, tenantId],
    );
    await c.query(`INSERT INTO bench_chain_start (n, token_hash) VALUES ($1, $2)`, [n, hash]);
  }
  await c.end();
}

/** Transactions per second of the rotation statement pair, `clients` clients for `seconds`. */
export async function pgbenchRotation(databaseUrl, tenantId, { clients, seconds }) {
  await seed(databaseUrl, tenantId, clients);
  const file = join(tmpdir(), `tessera-rotation-${process.pid}.sql`);
  writeFileSync(file, SCRIPT);
  const url = new URL(databaseUrl);
  const args = [
    '-n',
    '-M',
    'extended',
    '-f',
    file,
    '-c',
    String(clients),
    '-j',
    '2',
    '-T',
    String(seconds),
    '-D',
    'h=start',
    '-h',
    url.hostname,
    '-p',
    url.port || '5432',
    '-U',
    url.username || 'postgres',
    url.pathname.slice(1),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.once('error', (e) => reject(new Error(`pgbench could not start (${e.message}): install Debian's postgresql-client`)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      const tps = /tps = ([\d.]+)/.exec(out);
      const latency = /latency average = ([\d.]+) ms/.exec(out);
      const failed = /number of failed transactions: (\d+)/.exec(out);
      if (code !== 0 || !tps) return reject(new Error(`pgbench failed (${code}): ${err.trim() || out.trim()}`));
      if (failed && Number(failed[1]) > 0) return reject(new Error(`pgbench: ${failed[1]} failed transactions`));
      resolve({ tps: Number(tps[1]), latencyMs: latency ? Number(latency[1]) : undefined });
    });
  });
}
