// 4. Refresh rotation over HTTP (each connection walks its own family) against pgbench of the
// same SQL on the same database, same run.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgbenchRotation } from '../lib/pgbench.mjs';
import { createTenant } from '../lib/tessera.mjs';

export default {
  name: 'refresh',
  title: 'Refresh-token rotation',
  async run({ startTessera, measure, settings }) {
    const rows = [];
    const goals = [];
    for (const alg of settings.smoke ? ['RS256'] : ['RS256', 'ES256']) {
      const tessera = await startTessera({ env: { SIGNING_ALGORITHM: alg, REFRESH_REUSE_GRACE_SECONDS: '0' } });
      try {
        const tenant = await createTenant(tessera);
        // One family per connection and per run: a chain is never presented twice.
        const chains = [];
        for (let i = 0; i < settings.connections * settings.runs; i++) {
          const issued = await tessera.request('POST', `/v1/tenants/${tenant.id}/tokens`, { sub: `bench-${i}`, scope: 'read' }, { 'x-api-key': tenant.apiKey });
          chains.push(issued.refresh_token);
        }
        const file = join(tmpdir(), `tessera-refresh-${process.pid}-${alg}.txt`);
        writeFileSync(file, chains.join('\n'));
        const ours = await measure(`Tessera ${alg} refresh_token grant (rotation + new access token)`, {
          url: `${tessera.url}/oauth/token`,
          method: 'POST',
          refreshFile: file,
        });
        const sql = await pgbenchRotation(tessera.databaseUrl, tenant.id, { clients: 10, seconds: settings.smoke ? 1 : settings.durationSec });
        const base = { label: 'pgbench: the rotation SQL, 10 clients, durable (baseline)', rps: sql.tps, p50: sql.latencyMs };
        rows.push(base, { ...ours, ratio: ours.rps / sql.tps });
        goals.push({ text: `${alg} refresh over HTTP / pgbench of its SQL`, value: ours.rps / sql.tps, goal: '≥ 0.5', met: ours.rps / sql.tps >= 0.5 });
      } finally {
        await tessera.stop();
      }
    }
    return { rows, goals };
  },
};
