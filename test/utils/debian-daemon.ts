import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { waitFor } from './process';

/**
 * The test set-up installs a Debian package the test puts in front of Tessera (nginx, haproxy,
 * PgBouncer) when `isInstalled()` says it is missing, as CI does; where that is impossible (no
 * root, no apt) it says what to run.
 */
export function ensureDebianPackage(pkg: string, isInstalled: () => boolean, what: string, purpose: string): void {
  if (isInstalled()) return;
  process.stdout.write(`${purpose}: installing Debian ${pkg}…\n`);
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 180_000 });
  if (apt(['install', '-y', '-qq', pkg]).status !== 0) {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', pkg]);
  }
  if (!isInstalled()) throw new Error(`This test needs Debian ${what} and could not install it: run \`apt-get install -y ${pkg}\` as root`);
}

export interface RunningDaemon {
  child: ChildProcess;
  /** What the daemon printed (stdout and stderr), plus `extraLog()` (e.g. its log file). */
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts a daemon in the foreground and resolves once it accepts connections on 127.0.0.1:`port`;
 * killed (and the promise rejected with what it printed) when it does not within 10 s.
 */
export async function startDaemon(
  name: string,
  command: string,
  args: string[],
  port: number,
  extraLog: () => string = () => '',
): Promise<RunningDaemon> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  child.stdout.on('data', (d) => (printed += String(d)));
  child.stderr.on('data', (d) => (printed += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = () => printed + extraLog();
  try {
    await waitFor(() => child.exitCode === null && canConnect(port), 10_000, `${name} on port ${port}: ${output()}`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
