import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackage, startDaemon } from './debian-daemon';
import { freePort } from './process';

const HAPROXY = '/usr/sbin/haproxy';

export interface HaproxyBackend {
  name: string;
  port: number;
}

export interface RunningHaproxy {
  port: number;
  url: string;
  config: string;
  output(): string;
  /** Each server's state as haproxy sees it (UP, DOWN, …), from the admin socket. */
  serverStates(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

const installed = (): boolean => !spawnSync(HAPROXY, ['-v'], { stdio: 'ignore' }).error;

/** The test set-up installs Debian's haproxy when it is missing, as CI does; without root or apt it says what to run. */
export function ensureHaproxyInstalled(): void {
  ensureDebianPackage('haproxy', installed, 'haproxy', 'rolling-restart e2e');
}

/**
 * The configuration an operator would write in front of Tessera replicas (the README's
 * example, with shorter check intervals so a test runs in seconds):
 * - `option httpchk GET /health/ready`: a replica that got SIGTERM answers 503 and is taken out
 *   after `fall` checks, while it still serves; it comes back after `rise` good checks;
 * - `retries` + `option redispatch`: a connection refused (a replica gone before its check
 *   failed, a crash) is tried again on another server. Only connection failures are retried
 *   (`retry-on conn-failure`, haproxy's default): a request that reached a replica is never
 *   sent twice, since a POST there may have done its work.
 */
export function haproxyConfig(
  port: number,
  socket: string,
  backends: HaproxyBackend[],
  check = { interMs: 500, fall: 3, rise: 2 },
): string {
  return `global
  maxconn 512
  stats socket ${socket} mode 600 level admin
  log stderr format raw local0 warning

defaults
  mode http
  log global
  option httplog
  option log-separate-errors
  option dontlognull
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # Generous next to inter: a replica slow to answer on a busy machine is not a replica going away.
  timeout check 2s
  retries 3
  option redispatch
  retry-on conn-failure

frontend tessera_in
  bind 127.0.0.1:${port}
  default_backend tessera

backend tessera
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  default-server check inter ${check.interMs} fastinter ${Math.max(100, check.interMs / 2)} downinter ${check.interMs} fall ${check.fall} rise ${check.rise}
${backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port}`).join('\n')}
`;
}

/**
 * Starts haproxy in the foreground (`-db`) with its configuration and admin socket in a private
 * temporary directory, on `port` (the replicas' PUBLIC_URL may have to name it before it starts).
 */
export async function startHaproxy(backends: HaproxyBackend[], listenPort?: number): Promise<RunningHaproxy> {
  ensureHaproxyInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-haproxy-'));
  chmodSync(dir, 0o700);
  const port = listenPort ?? (await freePort());
  const socket = join(dir, 'admin.sock');
  const config = haproxyConfig(port, socket, backends);
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const check = spawnSync(HAPROXY, ['-c', '-q', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy refused its configuration: ${check.stderr}${check.stdout}`);

  const serverStates = async (): Promise<Record<string, string>> => {
    const csv = await adminCommand(socket, 'show stat');
    const states: Record<string, string> = {};
    for (const row of csv.split('\n')) {
      const cols = row.split(',');
      // pxname,svname,…,status is column 18 (0-based 17) of `show stat`.
      if (cols[0] === 'tessera' && cols[1] !== 'BACKEND' && cols[1] !== 'FRONTEND' && cols[1]) states[cols[1]] = cols[17];
    }
    return states;
  };
  const daemon = await startDaemon('haproxy', HAPROXY, ['-db', '-f', file], port);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    config,
    output: daemon.output,
    serverStates,
    stop: daemon.stop,
  };
}

function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const s = connect(socket);
    s.once('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => (data += String(d)));
    s.once('end', () => resolve(data));
    s.once('error', reject);
  });
}
