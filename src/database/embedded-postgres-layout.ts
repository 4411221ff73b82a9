import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  Stats,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { EmbeddedDatabaseError } from './embedded-postgres-error';

/**
 * Where Tessera keeps what the engine's OS user must reach when Tessera runs as root and that user cannot
 * reach the clone (a clone in root's home, mode 0700): a copy of the engine binaries and the cluster.
 * Root-owned, mode 0755; see docs/adr/0008-embedded-postgres-as-root.md.
 */
export const ROOT_STAGING_DIR = '/var/lib/tessera';

/** Postgres refuses to run as root: as root the engine runs as this system user (created when missing). */
export const ENGINE_USER = 'postgres';

export interface EngineBinaries {
  initdb: string;
  postgres: string;
  /** `<package>@<version>`: names the staged copy. */
  version: string;
}

export interface EngineUser {
  uid: number;
  gid: number;
}

export interface EngineLayout {
  binaries: EngineBinaries;
  /** Set when Tessera runs as root: the engine runs as this user. */
  user?: EngineUser;
  /** Holds the cluster (`postgres/`) and, during initdb only, the password file. Owned by the engine's user. */
  home: string;
  /** The cluster directory (`-D`). */
  cluster: string;
  /** Set when the cluster lives outside DATA_DIR (root, unreachable DATA_DIR); DATA_DIR/postgres links to it. */
  linkedFrom?: string;
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** The binaries of the platform package that `embedded-postgres` installs as an optional dependency. */
export function packagedBinaries(): EngineBinaries {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres itself: the platform package is its optional dependency.
    entry = createRequire(require.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new EmbeddedDatabaseError(
      `The embedded Postgres has no binaries for ${platform()}-${arch()} (${name} is not installed): ` +
        'set DATABASE_URL to a Postgres server, or run npm ci on a supported platform.',
    );
  }
  const root = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return {
    initdb: join(root, 'native', 'bin', 'initdb'),
    postgres: join(root, 'native', 'bin', 'postgres'),
    version: `${name}@${version}`,
  };
}

/**
 * Decides where the engine runs from. Not root: the packaged binaries and `<DATA_DIR>/postgres`, as the
 * current user. Root: as the `postgres` user, with the binaries and the cluster copied or placed where
 * that user can reach them when it cannot reach the originals.
 */
export function resolveLayout(dataDir: string): EngineLayout {
  const binaries = packagedBinaries();
  if (!isRoot()) return { binaries, home: dataDir, cluster: join(dataDir, 'postgres') };

  const user = ensureEngineUser();
  const reachableBinaries = canRun(user, binaries.initdb) ? binaries : stageBinaries(binaries, user);
  const link = join(dataDir, 'postgres');
  const linked = lstatOrUndefined(link)?.isSymbolicLink() ? readlinkSync(link) : undefined;
  if (!linked && canEnter(user, dataDir)) {
    return { binaries: reachableBinaries, user, home: dataDir, cluster: link };
  }
  // The engine's user cannot enter DATA_DIR (or an earlier start already placed the cluster outside it).
  const home = join(stagingSubdir('clusters', 0o711), createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16));
  const cluster = join(home, 'postgres');
  if (linked !== cluster) {
    if (linked)
      throw new EmbeddedDatabaseError(
        `${link} points to ${linked}, not to ${cluster}: remove the link or set DATA_DIR to another directory.`,
      );
    if (existsSync(link)) {
      throw new EmbeddedDatabaseError(
        `${link} exists but the ${ENGINE_USER} user cannot reach it (a parent directory is private to root): ` +
          'move the clone or set DATA_DIR to a directory outside private directories.',
      );
    }
    // No link in DATA_DIR: whatever sits in `home` belongs to a DATA_DIR of the same path that was deleted.
    rmSync(home, { recursive: true, force: true });
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownSync(home, user.uid, user.gid);
  chmodSync(home, 0o700);
  if (!linked) symlinkSync(cluster, link);
  return { binaries: reachableBinaries, user, home, cluster, linkedFrom: link };
}

/** The uid and gid of the engine's user, creating a system user and group when missing. */
function ensureEngineUser(): EngineUser {
  const lookup = (): EngineUser | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', ENGINE_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const gid = Number(execFileSync('id', ['-g', ENGINE_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  const groupExists = spawnSync('getent', ['group', ENGINE_USER], { stdio: 'ignore' }).status === 0;
  const created = spawnSync(
    'useradd',
    [
      '--system',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      ...(groupExists ? ['-g', ENGINE_USER] : ['--user-group']),
      ENGINE_USER,
    ],
    { encoding: 'utf8' },
  );
  const user = lookup();
  if (!user) {
    const why = (created.error?.message ?? created.stderr ?? '').trim().split('\n')[0] || `exit code ${created.status}`;
    throw new EmbeddedDatabaseError(
      `Running as root, Tessera runs the embedded Postgres as the system user "${ENGINE_USER}", which could not be created (useradd: ${why}): ` +
        `create it (useradd --system --user-group ${ENGINE_USER}), run Tessera as an ordinary user, or set DATABASE_URL.`,
    );
  }
  return user;
}

/** True when `user` can execute `binary` (the parents, the file and its libraries are all reachable). */
function canRun(user: EngineUser, binary: string): boolean {
  const probe = spawnSync(binary, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'ignore', env: { LC_ALL: 'C' }, timeout: 10_000 });
  return !probe.error && probe.status === 0;
}

/** True when `user` can enter `directory` (every parent has the search bit for it). */
function canEnter(user: EngineUser, directory: string): boolean {
  // A minimal environment, as for the engine: Tessera's secrets are not handed to another user's process.
  const probe = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', directory], {
    uid: user.uid,
    gid: user.gid,
    stdio: 'ignore',
    env: { LC_ALL: 'C' },
    timeout: 10_000,
  });
  return !probe.error && probe.status === 0;
}

/** A root-owned directory under ROOT_STAGING_DIR; refuses one that someone else could have planted or changed. */
function stagingSubdir(name: string, mode: number): string {
  mkdirSync(ROOT_STAGING_DIR, { recursive: true, mode: 0o755 });
  const directory = join(ROOT_STAGING_DIR, name);
  mkdirSync(directory, { recursive: true, mode });
  for (const path of [ROOT_STAGING_DIR, directory]) {
    const stat = lstatSync(path);
    if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
      throw new EmbeddedDatabaseError(
        `${path} must be a directory owned by root and writable only by it: fix or remove it, then start again.`,
      );
    }
  }
  return directory;
}

/**
 * Copies bin/, lib/ and share/ of the packaged engine to a root-owned, world-readable directory named by
 * the package version (once per version; a copy is finished under a temporary name, then renamed).
 */
function stageBinaries(packaged: EngineBinaries, user: EngineUser): EngineBinaries {
  const target = join(stagingSubdir('engine', 0o755), packaged.version.replace(/[^a-zA-Z0-9.@-]+/g, '_'));
  const staged = { initdb: join(target, 'bin', 'initdb'), postgres: join(target, 'bin', 'postgres'), version: packaged.version };
  if (!existsSync(staged.postgres)) {
    const native = dirname(dirname(packaged.postgres));
    const temporary = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      for (const part of ['bin', 'lib', 'share']) {
        // Static libraries and pkg-config files are for building against Postgres, not for running it.
        cpSync(join(native, part), join(temporary, part), {
          recursive: true,
          verbatimSymlinks: true,
          filter: (source) => !source.endsWith('.a') && !source.includes('/pkgconfig'),
        });
      }
      chmodTree(temporary);
      renameSync(temporary, target);
    } catch (error) {
      rmSync(temporary, { recursive: true, force: true });
      // Another Tessera finished the same copy first: use it.
      if (!existsSync(staged.postgres)) {
        throw new EmbeddedDatabaseError(
          `Could not copy the embedded Postgres binaries to ${target} (${errorSummary(error)}): check that ${ROOT_STAGING_DIR} is writable, or set DATABASE_URL.`,
        );
      }
    }
  }
  if (!canRun(user, staged.initdb)) {
    throw new EmbeddedDatabaseError(
      `The ${ENGINE_USER} user cannot run ${staged.initdb}: check the permissions of ${ROOT_STAGING_DIR}, or set DATABASE_URL.`,
    );
  }
  return staged;
}

/** Directories 0755, files keep their execute bit, nothing writable but by root. */
function chmodTree(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) chmodTree(join(path, entry));
  } else {
    chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'not a directory',
  ENOTDIR: 'not a directory',
  ENOENT: 'no such file or directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left',
};

/** errno code and a few words, never a path's content or a secret. */
export function errorSummary(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.code) return `${REASONS[e.code] ? `${REASONS[e.code]}, ` : ''}${e.code}${e.syscall ? ` on ${e.syscall}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
