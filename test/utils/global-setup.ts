// Gives the e2e suites a Postgres server: the one named by TEST_DATABASE_URL or
// DATABASE_URL, otherwise a real embedded Postgres started here for the run, through the
// same EmbeddedDatabase the service uses (so `npm test` works wherever `npm start` does:
// as root from a private directory, as an ordinary user; docs/adr/0008).
// Each suite then creates its own database on that server (see test/utils/test-app.ts).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase } from '../../src/database/embedded-postgres';

declare global {
  var __TESSERA_EMBEDDED_PG__: EmbeddedDatabase | undefined;
}

export default async function globalSetup(): Promise<void> {
  const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (given) {
    process.env.TESSERA_TEST_SERVER_URL = given;
    process.stdout.write(`\ne2e: using the Postgres server at ${given.replace(/:[^:@/]*@/, ':***@')}\n`);
    return;
  }
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-e2e-pg-'));
  // Open to the engine's user when run as root, so the cluster stays in this throwaway directory.
  chmodSync(dataDir, 0o755);
  const pg = new EmbeddedDatabase({
    dataDir,
    password: randomBytes(18).toString('base64url'),
    port: 0,
    // Many suites each boot apps with their own pools; fsync off: the run's data is thrown away.
    settings: { max_connections: '300', fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    log: (message) => process.stdout.write(`e2e embedded Postgres: ${message}\n`),
  });
  const url = new URL(await pg.start());
  globalThis.__TESSERA_EMBEDDED_PG__ = pg;
  process.env.TESSERA_TEST_PG_DATA_DIR = dataDir;
  url.pathname = '/postgres';
  process.env.TESSERA_TEST_SERVER_URL = url.toString();
  process.stdout.write(`\ne2e: started an embedded Postgres on 127.0.0.1:${url.port} in ${Date.now() - started} ms\n`);
}
