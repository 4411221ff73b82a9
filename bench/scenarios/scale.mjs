// 6. Scale: p50/p99 of verification (forward-auth), introspection and refresh rotation on an
// empty database and on a database seeded with 1 000 000 refresh-token rows and 100 000 denylist
// entries, same run; plus the heap the in-memory denylist takes per 100 000 entries.
//
// Two Tessera processes run side by side (one per database), both started fresh after the
// seeding, so the seeded one has read the denylist at start. Their measurements alternate run by
// run (empty, seeded, seeded, empty, …): this machine's load drifts by tens of percent within a
// minute, and a comparison of two sequential blocks would measure that drift.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleaved } from '../lib/interleave.mjs';
import { pool, writeTokens } from '../lib/jwt.mjs';
import { seedScale } from '../lib/seed.mjs';
import { createDatabase, createTenant, ROOT } from '../lib/tessera.mjs';

const GC_PRELOAD = join(ROOT, 'bench', 'lib', 'gc-on-signal.cjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Heap used after forced full GCs (SIGUSR2 → gc() in the preload), read from GET /metrics; the lowest of `rounds` readings. */
async function steadyHeap(tessera, rounds) {
  let lowest = Infinity;
  for (let i = 0; i < rounds; i++) {
    process.kill(tessera.pid, 'SIGUSR2');
    await sleep(150);
    process.kill(tessera.pid, 'SIGUSR2');
    await sleep(150);
    const text = await (await fetch(`${tessera.url}/metrics`)).text();
    const match = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
    if (!match) throw new Error('nodejs_heap_size_used_bytes missing from GET /metrics');
    lowest = Math.min(lowest, Number(match[1]));
  }
  return lowest;
}

export default {
  name: 'scale',
  title: 'Scale: verification, introspection and refresh, empty vs 1 000 000 refresh rows + 100 000 denylist entries',
  async run({ startTessera, settings }) {
    const started = Date.now();
    const log = (what) => process.stderr.write(`  [scale ${((Date.now() - started) / 1000).toFixed(1)} s] ${what}\n`);
    const durationSec = settings.smoke ? 0.25 : settings.durationSec; // smoke: six short runs
    const { runs, connections } = settings;
    const families = settings.smoke ? 5_000 : 500_000; // × 2 generations = the refresh-token rows
    const revokedJtis = settings.smoke ? 1_000 : 100_000;
    const accessTokens = settings.smoke ? 50 : 2_000;
    const heapRounds = settings.smoke ? 1 : 3;

    const kek = randomBytes(32).toString('hex');
    const sides = [];
    for (const name of ['empty', 'seeded']) {
      const db = await createDatabase();
      // A restart keeps the database, the key-encryption key and DATA_DIR: the signing keys survive it.
      const env = {
        KEY_ENCRYPTION_KEY: kek,
        DATA_DIR: mkdtempSync(join(tmpdir(), `tessera-bench-scale-${name}-`)),
        REFRESH_REUSE_GRACE_SECONDS: '0',
      };
      sides.push({
        name,
        db,
        dataDir: env.DATA_DIR,
        start: () => startTessera({ env, database: db, nodeArgs: ['--expose-gc', '-r', GC_PRELOAD] }),
      });
    }
    try {
      // Migrate both databases and create one tenant in each, then stop both.
      await Promise.all(
        sides.map(async (s) => {
          s.tessera = await s.start();
          s.tenant = await createTenant(s.tessera);
        }),
      );
      await Promise.all(sides.map(async (s) => (await s.tessera.stop(), (s.tessera = undefined))));
      log('both databases migrated, one tenant each');

      const seeded = sides[1];
      const seed = await seedScale(seeded.db.url, {
        tenantId: seeded.tenant.id,
        families,
        generations: 2,
        revokedJtis,
        batch: settings.smoke ? 10_000 : 50_000,
        deadlineMs: settings.smoke ? 20_000 : 900_000,
      });

      // Both start fresh now: the seeded one reads the 100 000 denylist rows at start.
      const startMs = {};
      await Promise.all(
        sides.map(async (s) => {
          const t = Date.now();
          s.tessera = await s.start();
          startMs[s.name] = Date.now() - t;
        }),
      );
      await sleep(settings.smoke ? 100 : 1000); // the denylist's second load, once LISTEN is in place
      for (const s of sides) s.heap = await steadyHeap(s.tessera, heapRounds);
      log(`both started (${startMs.empty} / ${startMs.seeded} ms to ready), heap read`);

      // Tokens of each side's own tenant: distinct access tokens, and one refresh family per connection and run.
      for (const s of sides) {
        const chains = connections * runs;
        const issued = await pool(Math.max(accessTokens, chains), 20, (i) =>
          s.tessera.request(
            'POST',
            `/v1/tenants/${s.tenant.id}/tokens`,
            { sub: `scale-${s.name}-${i}`, scope: 'read', accessTokenTtl: 3600, refreshToken: i < chains },
            { 'x-api-key': s.tenant.apiKey },
          ),
        );
        s.tokensFile = writeTokens(
          `scale-${s.name}-access`,
          issued.slice(0, accessTokens).map((t) => t.access_token),
        );
        // A file per run: a worker starts at the first chain, and a rotated token is never presented again.
        s.refreshFiles = Array.from({ length: runs }, (_, r) =>
          writeTokens(
            `scale-${s.name}-refresh-${r}`,
            issued.slice(r * connections, (r + 1) * connections).map((t) => t.refresh_token),
          ),
        );
      }
      log('tokens issued');

      const kinds = [
        {
          key: 'verify',
          label: `GET /v1/auth/verify (${accessTokens} distinct tokens)`,
          job: (s) => ({ url: `${s.tessera.url}/v1/auth/verify`, tokensFile: s.tokensFile }),
        },
        {
          key: 'introspect',
          label: `POST /oauth/introspect (X-Api-Key, ${accessTokens} distinct tokens)`,
          job: (s) => ({
            url: `${s.tessera.url}/oauth/introspect`,
            method: 'POST',
            headers: { 'x-api-key': s.tenant.apiKey },
            tokensFile: s.tokensFile,
            tokenFormField: 'token',
          }),
        },
        {
          key: 'refresh',
          label: 'refresh_token grant (rotation)',
          job: (s, r) => ({ url: `${s.tessera.url}/oauth/token`, method: 'POST', refreshFile: s.refreshFiles[r] }),
        },
      ];
      const rows = [];
      const goals = [];
      for (const kind of kinds) {
        // Alternating runs (ABBA): neither side always runs first.
        const [a, b] = await interleaved(
          settings,
          sides.map((s) => ({ label: `${s.name}: ${kind.label}`, job: (r) => kind.job(s, r) })),
          { durationSec },
        );
        const p99 = a.p99 > 0 ? b.p99 / a.p99 : b.p99 > 0 ? Infinity : 1;
        rows.push(a, { ...b, ratio: a.rps > 0 ? b.rps / a.rps : 0 });
        goals.push({
          text: `${kind.key}: p99 seeded / empty (${b.p99} / ${a.p99} ms; p50 ${b.p50} / ${a.p50} ms)`,
          value: p99,
          goal: '≤ 1.2',
          met: p99 <= 1.2,
        });
      }

      const perHundredK = ((seeded.heap - sides[0].heap) * 100_000) / revokedJtis;
      return {
        rows,
        goals,
        notes: [
          `Seeded database: ${seed.tokens.toLocaleString('en')} refresh_tokens rows (${families.toLocaleString('en')} families × 2 generations, the older one used, expiring in 30 days; table + indexes ${seed.size}) and ${seed.jtis.toLocaleString('en')} revoked_jtis rows (UUID jtis, one tenant, expiring in 1 day), all for the measured tenant, written by generate_series in batches in ${seed.seconds.toFixed(1)} s (then VACUUM ANALYZE and CHECKPOINT). Start to /health/ready: ${startMs.empty} ms empty, ${startMs.seeded} ms seeded.`,
          `Denylist memory: ${(perHundredK / 1024 / 1024).toFixed(1)} MiB per 100 000 entries (${Math.round(perHundredK / 100_000)} bytes/entry), = (heap used seeded − heap used empty) × 100 000 / ${revokedJtis.toLocaleString('en')}. Heap used is nodejs_heap_size_used_bytes from GET /metrics of each process, both freshly started and idle (+${settings.smoke ? 0.1 : 1} s after ready), after forced full GCs (node --expose-gc, SIGUSR2 → gc() via bench/lib/gc-on-signal.cjs), lowest of ${heapRounds} reading(s): ${(sides[0].heap / 1048576).toFixed(1)} MiB empty, ${(seeded.heap / 1048576).toFixed(1)} MiB seeded.`,
          'Both processes run side by side and their runs alternate (ABBA). ratio column: req/s seeded / req/s empty. autocannon reports whole milliseconds, so a 1 ms move on a small p99 is a large ratio: read it with the runs.',
        ],
      };
    } finally {
      await Promise.all(sides.map((s) => s.tessera?.stop()));
      await Promise.all(sides.map((s) => s.db.drop()));
      for (const s of sides) rmSync(s.dataDir, { recursive: true, force: true });
    }
  },
};
