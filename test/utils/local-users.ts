import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';

/** Process-level tests that switch users need root (useradd, runuser), as CI and the dev machines have. */
export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** A throwaway ordinary user with a home directory (created once, kept for later runs). */
export function ensureLocalUser(name: string): LocalUser {
  if (spawnSync('id', ['-u', name], { stdio: 'ignore' }).status !== 0) {
    const made = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', name], { encoding: 'utf8' });
    if (made.status !== 0 && spawnSync('id', ['-u', name], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`useradd ${name} failed: ${made.stderr}`);
    }
  }
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  const home = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.split(':')[5] ?? `/home/${name}`;
  return { name, uid: id('-u'), gid: id('-g'), home };
}

/** PATH for children: this Node first (the CI run on Node 22 puts its node there), then the usual. */
export const CHILD_PATH = [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(
  ':',
);

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM to the whole process group (npm, sh, node), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Runs `command` in its own process group with exactly `env` (nothing inherited), as `user` when given
 * (through runuser, like a person logged in as them), else as the current user.
 */
export function spawnAs(user: LocalUser | undefined, command: string[], env: Record<string, string>, cwd: string): Spawned {
  const envArgs = Object.entries({ PATH: CHILD_PATH, ...env }).map(([k, v]) => `${k}=${v}`);
  const argv = user ? ['runuser', '-u', user.name, '--', 'env', '-i', ...envArgs, ...command] : ['env', '-i', ...envArgs, ...command];
  const child = spawn(argv[0], argv.slice(1), { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + String(d)).slice(-200_000)));
  child.stderr!.on('data', (d) => (out = (out + String(d)).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  const stop = async (graceMs = 30_000) => {
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { child, output: () => out, exited, stop };
}

/** Runs a command to completion (bounded), throwing with its output when it fails. */
export function runChecked(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    timeout: options.timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}\n${result.stderr}`.slice(
        0,
        4000,
      ),
    );
  }
  return result.stdout;
}
