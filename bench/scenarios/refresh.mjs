// 4. Refresh rotation over HTTP (each connection walks its own family) against pgbench of the
// same SQL on the same database, runs alternating (ABBA…).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleaved } from '../lib/interleave.mjs';
import { pgbenchRotation } from '../lib/pgbench.mjs';
import { createTenant } from '../lib/tessera.mjs';

export default {
  name: 'refresh',
  title: 'Refresh-token rotation',
  async run({ startTessera, settings }) {
    const rows = [];
    const goals = [];
    for (const alg of settings.smoke ? ['RS256'] : ['RS256', 'ES256']) {
      const tessera = await startTessera({ env: { SIGNING_ALGORITHM: alg, REFRESH_REUSE_GRACE_SECONDS: '0' } });
      try {
        const tenant = await createTenant(tessera);
        // One family per connection and per run: a chain is never presented twice.
        const chains = [];
        for (let i = 0; i < settings.connections * settings.runs; i++) {
          const issued = await tessera.request(
            'POST',
            `/v1/tenants/${tenant.id}/tokens`,
            { sub: `bench-${i}`, scope: 'read' },
            { 'x-api-key': tenant.apiKey },
          );
          chains.push(issued.refresh_token);
        }
        const file = join(tmpdir(), `tessera-refresh-${process.pid}-${alg}.txt`);
        writeFileSync(file, chains.join('\n'));
        // Runs alternate (ABBA…) with pgbench of the same SQL, so both see the same machine.
        const pgbenchSeconds = settings.smoke ? 1 : Math.max(1, Math.round(settings.durationSec));
        const [base, ours] = await interleaved(settings, [
          {
            label: 'pgbench: the rotation SQL, 10 clients, durable (baseline)',
            once: async () => {
              const sql = await pgbenchRotation(tessera.databaseUrl, tenant.id, { clients: 10, seconds: pgbenchSeconds });
              return { rps: sql.tps, p50: sql.latencyMs };
            },
          },
          // `run` picks this run's chains: one family per connection and per run.
          {
            label: `Tessera ${alg} refresh_token grant (rotation + new access token)`,
            job: (run) => ({ url: `${tessera.url}/oauth/token`, method: 'POST', refreshFile: file, run }),
          },
        ]);
        rows.push(base, { ...ours, ratio: ours.rps / base.rps });
        goals.push({
          text: `${alg} refresh over HTTP / pgbench of its SQL`,
          value: ours.rps / base.rps,
          goal: '≥ 0.5',
          met: ours.rps / base.rps >= 0.5,
        });
      } finally {
        await tessera.stop();
      }
    }
    return { rows, goals };
  },
};
