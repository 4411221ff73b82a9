import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackage, startDaemon } from './debian-daemon';
import { freePort } from './process';

export interface RunningPgBouncer {
  port: number;
  /** `url` with host and port replaced by PgBouncer's (same user, password and database). */
  through(url: string): string;
  log(): string;
  stop(): Promise<void>;
}

const PGBOUNCER = '/usr/sbin/pgbouncer';

const installed = (): boolean => !spawnSync(PGBOUNCER, ['--version']).error;

/**
 * The test set-up installs Debian's pgbouncer when it is missing, as CI does; where that is
 * impossible (no root, no apt) it says what to run.
 */
export function ensurePgBouncerInstalled(): void {
  ensureDebianPackage('pgbouncer', installed, 'pgbouncer', 'pgbouncer e2e');
}

/**
 * Starts PgBouncer in the foreground in front of the Postgres server of `serverUrl`, in
 * `pool_mode = transaction` (the mode that breaks LISTEN and session locks), on a free port,
 * with every database of that server reachable under its own name. The server's user is the
 * one client (auth_type = trust, userlist.txt): the test is about pooling, not PgBouncer's auth.
 * PgBouncer refuses to run as root, so as root it runs as the `postgres` user.
 */
export async function startPgBouncer(serverUrl: string, options: { poolSize?: number } = {}): Promise<RunningPgBouncer> {
  ensurePgBouncerInstalled();
  const server = new URL(serverUrl);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pgbouncer-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  // The server side: every database name, with the server's own credentials.
  const target = [
    `host=${server.hostname}`,
    `port=${server.port || 5432}`,
    `user=${user}`,
    ...(password ? [`password=${password}`] : []),
  ].join(' ');
  const userlist = join(dir, 'userlist.txt');
  writeFileSync(userlist, `"${user}" ""\n`);
  chmodSync(userlist, 0o644);
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    `[databases]
* = ${target}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${userlist}
pool_mode = transaction
default_pool_size = ${options.poolSize ?? 20}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = ${dir}/pgbouncer.log
pidfile = ${dir}/pgbouncer.pid
admin_users = ${user}
`,
  );
  chmodSync(ini, 0o644);
  const args = userInfo().uid === 0 ? ['-u', 'postgres', ini] : [ini];
  const logFile = () => {
    try {
      return readFileSync(join(dir, 'pgbouncer.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const daemon = await startDaemon('pgbouncer', PGBOUNCER, args, port, logFile);
  return {
    port,
    through: (url: string) => {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    log: daemon.output,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
