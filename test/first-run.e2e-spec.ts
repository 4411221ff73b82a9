import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { IS_ROOT, LocalUser, ensureLocalUser, runChecked, spawnAs, Spawned } from './utils/local-users';
import { MAIN_JS, freePort, waitFor } from './utils/process';

/**
 * The README's first command, `npm ci && npm start`, on a fresh clone of this repository's HEAD with no
 * configuration at all: as root from a clone under a mode-0700 parent, and as an ordinary user. Then the
 * ways a first start must fail (one line, non-zero exit) and the initdb password file (issue 17.4).
 * Needs root (useradd, runuser): CI runs as root. `npm ci` runs once for the file; the ordinary user's clone
 * reuses its node_modules (copied, owned by that user).
 */
const REPO = resolve(__dirname, '..');
const NEWCOMER = 'tessera-newcomer';
const START_TIMEOUT_MS = 240_000;

const maybe = IS_ROOT ? describe : describe.skip;
if (!IS_ROOT) process.stdout.write('first-run e2e: skipped (needs root for useradd/runuser)\n');

async function ready(port: number, proc: Spawned, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let exit: number | null | undefined;
  void proc.exited.then((code) => (exit = code));
  await waitFor(
    async () => {
      if (exit !== undefined) throw new Error(`exited with ${exit} before /health/ready:\n${proc.output().slice(-4000)}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200;
      } catch {
        return false;
      }
    },
    timeoutMs,
    '/health/ready = 200',
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- output ---\n${proc.output().slice(-4000)}`);
  });
  process.stdout.write(`first-run e2e: /health/ready = 200 on port ${port} after ${Math.round((Date.now() - started) / 1000)} s more\n`);
}

/**
 * SIGTERM (to npm, sh and node): Tessera drains and stops its engine, which then removes its postmaster.pid.
 * npm may exit before its child, so the engine's file is what is awaited (bounded).
 */
async function stopsCleanly(proc: Spawned, cluster: string): Promise<void> {
  await proc.stop();
  await waitFor(() => !existsSync(join(cluster, 'postmaster.pid')), 30_000, 'the engine to stop after SIGTERM');
  expect(proc.output()).toContain('SIGTERM received');
}

/** The output of a failed start: every non-empty line. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

maybe('first run: npm ci && npm start with nothing configured', () => {
  let newcomer: LocalUser;
  let rootParent: string;
  let rootClone: string;
  let userClone: string | undefined;
  const stagedClusters: string[] = [];
  let rootStart: { port: number; proc: Spawned } | undefined;
  let userStart: { port: number; proc: Spawned } | undefined;

  beforeAll(async () => {
    newcomer = ensureLocalUser(NEWCOMER);
    // mkdtemp makes the parent mode 0700, as root's home is: the engine's user cannot traverse it.
    rootParent = mkdtempSync(join(tmpdir(), 'tessera-first-run-'));
    expect(lstatSync(rootParent).mode & 0o777).toBe(0o700);
    rootClone = join(rootParent, 'tessera');
    const started = Date.now();
    runChecked('git', ['clone', '--quiet', REPO, rootClone], { timeoutMs: 60_000 });
    runChecked('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: rootClone,
      env: { ...process.env, NODE_ENV: '' },
      timeoutMs: 240_000,
    });
    process.stdout.write(`first-run e2e: git clone + npm ci in ${Math.round((Date.now() - started) / 1000)} s\n`);

    // The ordinary user's own clone in their home, with the node_modules npm ci just made (owned by them).
    const parent = join(newcomer.home, `first-run-${process.pid}`);
    rmSync(parent, { recursive: true, force: true });
    mkdirSync(parent, { mode: 0o700 });
    userClone = join(parent, 'tessera');
    // --no-hardlinks: the clone is chowned, and must not share inodes with this repository.
    runChecked('git', ['clone', '--quiet', '--no-hardlinks', REPO, userClone], { timeoutMs: 60_000 });
    runChecked('cp', ['-a', join(rootClone, 'node_modules'), join(userClone, 'node_modules')], { timeoutMs: 120_000 });
    runChecked('chown', ['-R', `${newcomer.uid}:${newcomer.gid}`, parent], { timeoutMs: 120_000 });

    // Both `npm start`s (each builds first) run side by side to keep the file's time down; (a) and (b) check them.
    const [rootPort, userPort] = [await freePort(), await freePort()];
    rootStart = {
      port: rootPort,
      proc: spawnAs(undefined, ['npm', 'start'], { HOME: '/root', PORT: String(rootPort), HOST: '127.0.0.1' }, rootClone),
    };
    userStart = {
      port: userPort,
      proc: spawnAs(newcomer, ['npm', 'start'], { HOME: newcomer.home, PORT: String(userPort), HOST: '127.0.0.1' }, userClone),
    };
  }, 300_000);

  afterAll(async () => {
    await rootStart?.proc.stop(1000);
    await userStart?.proc.stop(1000);
    for (const cluster of stagedClusters) rmSync(dirname(cluster), { recursive: true, force: true });
    if (rootParent) rmSync(rootParent, { recursive: true, force: true });
    if (userClone) rmSync(dirname(userClone), { recursive: true, force: true });
  });

  it(
    '(a) as root from a clone under a mode-0700 parent: reaches /health/ready, with the cluster where the postgres user can reach it',
    async () => {
      const { port, proc } = rootStart!;
      try {
        await ready(port, proc, START_TIMEOUT_MS);
        const link = join(rootClone, '.tessera', 'postgres');
        expect(lstatSync(link).isSymbolicLink()).toBe(true);
        const cluster = readlinkSync(link);
        stagedClusters.push(cluster);
        expect(cluster).toMatch(/^\/var\/lib\/tessera\/clusters\/[0-9a-f]{16}\/postgres$/);
        expect(proc.output()).toContain(`data in ${cluster}`);
        expect(lstatSync(dirname(cluster)).mode & 0o777).toBe(0o700);

        const { ADMIN_API_KEY: admin } = JSON.parse(readFileSync(join(rootClone, '.tessera', 'secrets.json'), 'utf8'));
        expect((await fetch(`http://127.0.0.1:${port}/v1/tenants`, { headers: { 'x-api-key': admin } })).status).toBe(200);
        await stopsCleanly(proc, cluster);
      } finally {
        await proc.stop(1000);
      }
    },
    START_TIMEOUT_MS + 60_000,
  );

  it(
    '(b) as an ordinary user from their own clone: reaches /health/ready, the cluster in ./.tessera owned by them',
    async () => {
      const { port, proc } = userStart!;
      try {
        await ready(port, proc, START_TIMEOUT_MS);
        const cluster = join(userClone!, '.tessera', 'postgres');
        expect(proc.output()).toContain(`data in ${cluster}`);
        const stat = lstatSync(cluster);
        expect(stat.isDirectory() && stat.uid === newcomer.uid && (stat.mode & 0o777) === 0o700).toBe(true);
        await stopsCleanly(proc, cluster);
      } finally {
        await proc.stop(1000);
      }
    },
    START_TIMEOUT_MS + 180_000,
  );

  describe('(c) a DATA_DIR the engine cannot use: one line that says what to do, non-zero exit, no stack', () => {
    const expectOneLineFailure = async (proc: Spawned, mentions: RegExp) => {
      const timer = setTimeout(() => void proc.stop(1000), 30_000);
      const code = await proc.exited;
      clearTimeout(timer);
      const output = lines(proc.output());
      expect({ code: code !== 0 && code !== null, output }).toEqual({ code: true, output: [expect.stringMatching(mentions)] });
      expect(output[0]).toMatch(/set DATA_DIR to a directory|set DATABASE_URL/);
      expect(output[0]).not.toMatch(/Unhandled|\n\s+at |undefined/);
    };
    const mainOf = () => {
      if (!userClone || !existsSync(join(userClone, 'dist', 'main.js'))) throw new Error('needs the ordinary user clone built by (b)');
      return join(userClone, 'dist', 'main.js');
    };

    it('an ordinary user, DATA_DIR inside a directory private to root (EACCES)', async () => {
      const privateDir = mkdtempSync(join(tmpdir(), 'tessera-private-'));
      try {
        const proc = spawnAs(newcomer, ['node', mainOf()], { HOME: newcomer.home, DATA_DIR: join(privateDir, 'data') }, newcomer.home);
        await expectOneLineFailure(proc, /^DATA_DIR .*tessera-private-.*\/data cannot be used \(permission denied, EACCES\)/);
      } finally {
        rmSync(privateDir, { recursive: true, force: true });
      }
    }, 60_000);

    it('root, DATA_DIR naming a regular file', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'tessera-file-')), 'not-a-directory');
      writeFileSync(file, 'x');
      try {
        const proc = spawnAs(undefined, ['node', MAIN_JS], { HOME: '/root', DATA_DIR: file }, tmpdir());
        await expectOneLineFailure(proc, /^DATA_DIR .*not-a-directory cannot be used \(not a directory/);
      } finally {
        rmSync(dirname(file), { recursive: true, force: true });
      }
    }, 60_000);

    it('an ordinary user, DATA_DIR/postgres held by root (the engine itself fails): its reason in one line', async () => {
      const dataDir = join(newcomer.home, `data-${process.pid}`);
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(join(dataDir, 'postgres'), { recursive: true });
      chownSync(dataDir, newcomer.uid, newcomer.gid);
      chmodSync(join(dataDir, 'postgres'), 0o700);
      try {
        const proc = spawnAs(newcomer, ['node', mainOf()], { HOME: newcomer.home, DATA_DIR: dataDir }, newcomer.home);
        await expectOneLineFailure(
          proc,
          /^Tessera failed to start: The embedded Postgres could not create its cluster in .*Permission denied/,
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 60_000);
  });
});

maybe('first start: the initdb password file (issue 17.4)', () => {
  let newcomer: LocalUser;
  beforeAll(() => {
    newcomer = ensureLocalUser(NEWCOMER);
  });

  it('(d) issue 17.4: another local user can never read the superuser password, and leftovers are removed at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-pwfile-'));
    chmodSync(dataDir, 0o755);
    const password = `pw${Date.now()}abcdef0123456789`;
    writeFileSync(join(dataDir, 'secrets.json'), JSON.stringify({ EMBEDDED_POSTGRES_PASSWORD: password }), { mode: 0o600 });
    // What a start that died during initdb left behind: ours in DATA_DIR, the old library's in the temp dir.
    const leftovers = [join(dataDir, '.pg-password-deadbeef'), join(tmpdir(), `pg-password-leftover${process.pid}`)];
    for (const path of leftovers) writeFileSync(path, `${password}\n`, { mode: 0o600 });

    // The other local user watches DATA_DIR and the temp dir every 2 ms for the whole first start.
    const watcher = spawnAs(
      newcomer,
      ['node', '-e', WATCHER],
      { HOME: newcomer.home, WATCH_DIRS: JSON.stringify([dataDir, tmpdir()]), WATCH_PASSWORD: password },
      newcomer.home,
    );
    const port = await freePort();
    let proc: Spawned | undefined;
    try {
      await waitFor(() => watcher.output().includes('watching'), 15_000, 'the watcher');
      proc = spawnAs(undefined, ['node', MAIN_JS], { HOME: '/root', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir }, dataDir);
      await ready(port, proc, 90_000);
      await watcher.stop();
      // runuser adds its own lines when signalled: the report is the JSON one.
      const report = JSON.parse(lines(watcher.output()).find((l) => l.startsWith('{'))!) as {
        seen: string[];
        read: string[];
        leaked: string[];
      };

      // No file it could read held this password (other programs' pg-password files in the temp dir do not count).
      expect(report.leaked).toEqual([]);
      expect(report.read.filter((p) => p.startsWith(dataDir))).toEqual([]);
      // It did look during initdb: the password file was there, in DATA_DIR, and unreadable to it.
      expect(report.seen.some((p) => p.startsWith(join(dataDir, '.pg-password-')) && !leftovers.includes(p))).toBe(true);
      // Leftovers removed; no password file after the start.
      for (const path of leftovers) expect(existsSync(path)).toBe(false);
      expect(readdirSync(dataDir).filter((n) => n.includes('pg-password'))).toEqual([]);
      await proc.stop();
      expect(proc.output()).toContain('SIGTERM received');
    } finally {
      await watcher.stop(1000);
      await proc?.stop(1000);
      for (const path of leftovers) rmSync(path, { force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});

/** Runs as the other local user: reports every pg-password file it saw, could read, and could read this password in. */
const WATCHER = `
const fs = require('fs'), path = require('path');
const dirs = JSON.parse(process.env.WATCH_DIRS);
const seen = new Set(), read = new Set(), leaked = new Set();
const tick = () => {
  for (const dir of dirs) {
    let names = [];
    try { names = fs.readdirSync(dir); } catch {}
    for (const name of names) {
      if (!name.includes('pg-password')) continue;
      const file = path.join(dir, name);
      seen.add(file);
      try { const text = fs.readFileSync(file, 'utf8'); read.add(file); if (text.includes(process.env.WATCH_PASSWORD)) leaked.add(file); } catch {}
    }
  }
};
const timer = setInterval(tick, 2);
process.on('SIGTERM', () => {
  clearInterval(timer);
  tick();
  process.stdout.write('\\n' + JSON.stringify({ seen: [...seen], read: [...read], leaked: [...leaked] }) + '\\n');
  process.exit(0);
});
process.stdout.write('watching\\n');
`;
