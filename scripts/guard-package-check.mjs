// CI: the packed @tessera/nest-guard works in a fresh Nest app outside the repository.
//   node scripts/guard-package-check.mjs        (needs dist/main.js and the machine's Postgres, as the benchmarks do)
// 1. `npm pack`s the workspace package into a temp directory (prepack builds it);
// 2. creates a Nest app in a directory made by mkdtemp under os.tmpdir() (not inside the repo, no
//    node_modules above it), installs the tarball plus Nest, reflect-metadata, rxjs, the passport
//    peers and TypeScript from the registry (--prefer-offline: the npm cache serves them), and
//    compiles its main.ts with tsc (CommonJS, `moduleResolution: node`, Nest CLI's default);
// 3. starts Tessera (dist/main.js, fresh database on the machine's Postgres), issues tokens through
//    the admin API → tenant → POST /v1/tenants/:id/tokens;
// 4. boots the app on Express and on Fastify and checks: 200 with a token, 401 without one and with
//    a tampered one (the design's JSON and WWW-Authenticate), 403 without the scope, the passport
//    strategy, the RFC 9728 route; and that every module the app loaded lies inside its directory
//    (require.resolve and require.cache), so nothing came from the repository's node_modules.
// Bounded (GUARD_CHECK_TIMEOUT_MS, default 360 s: about 150 s on a loaded 2-core machine), prints progress, removes what it made.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTenant, freePort, startTessera } from '../bench/lib/tessera.mjs';

const ROOT = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..'));
const started = Date.now();
const deadline = Number(process.env.GUARD_CHECK_TIMEOUT_MS ?? 360_000);
const progress = (line) => process.stderr.write(`[guard-package ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

const cleanups = [];
let finished = false;
async function cleanUp() {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (error) {
      progress(`clean-up step failed: ${error.message}`);
    }
  }
  cleanups.length = 0;
}
const timer = setTimeout(async () => {
  if (finished) return;
  progress(`FAILED: not done within ${deadline / 1000} s`);
  await cleanUp();
  process.exit(1);
}, deadline);

/** Runs a command to completion (bounded), output kept for the error message. */
function run(command, args, { cwd, env = process.env, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(kill);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(`${command} ${args.join(' ')} → ${signal ?? code} (cwd ${cwd}):\n${output.trim().split('\n').slice(-30).join('\n')}`),
        );
    });
  });
}

/** The exact versions the repository installed, so that --prefer-offline finds them in the npm cache. */
function installedVersion(name) {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const APP_MAIN = String.raw`import 'reflect-metadata';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Auth, JwtGuardModule, Principal, Public, TenantId, TokenPrincipal } from '@tessera/nest-guard';
import { TesseraAuthGuard, TesseraPassportModule } from '@tessera/nest-guard/passport';

const tessera = process.env.TESSERA_URL as string;

@Controller()
class AppController {
  @Public()
  @Get('hello')
  hello(): { message: string } {
    return { message: 'hello' };
  }

  @Auth('read')
  @Get('guarded')
  guarded(@Principal() user: TokenPrincipal, @TenantId() tenantId: string | undefined): { sub: string | undefined; tenantId: string | undefined } {
    return { sub: user.sub, tenantId };
  }

  @UseGuards(TesseraAuthGuard)
  @Get('passport')
  passport(@Principal('sub') sub: string): { sub: string } {
    return { sub };
  }

  /** Where every module this process loaded came from (the check wants them all inside the app). */
  @Public()
  @Get('modules')
  modules(): { resolved: Record<string, string>; loaded: string[] } {
    const names = ['@tessera/nest-guard', '@tessera/nest-guard/passport', '@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs', 'passport', 'passport-jwt', '@nestjs/passport'];
    const resolved: Record<string, string> = {};
    for (const name of names) resolved[name] = require.resolve(name);
    // jwks-rsa and lru-cache are the package's own dependencies: resolve them from the package.
    const guardDir = require.resolve('@tessera/nest-guard/package.json').replace(/package\.json$/, '');
    for (const name of ['jwks-rsa', 'lru-cache']) resolved[name] = require.resolve(name, { paths: [guardDir] });
    return { resolved, loaded: Object.keys(require.cache) };
  }
}

@Module({
  imports: [
    JwtGuardModule.forRoot({
      issuers: [{ issuer: tessera, audience: tessera, algorithms: ['RS256', 'ES256'], jwksUri: tessera + '/.well-known/jwks.json' }],
      protectedResource: { resource: 'https://api.example.test/orders', scopesSupported: ['read'] },
    }),
    TesseraPassportModule.register(),
  ],
  controllers: [AppController],
})
class AppModule {}

async function main(): Promise<void> {
  const express = process.env.ADAPTER === 'express';
  const app = await NestFactory.create(AppModule, express ? new ExpressAdapter() : new FastifyAdapter(), { logger: ['warn', 'error'] });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  console.log('guard-check app ready');
}

main().catch((error: unknown) => {
  console.error('guard-check app failed: ' + String((error as Error).stack ?? error));
  process.exit(1);
});
`;

/** Starts the compiled app and waits for its ready line. */
async function startApp(appDir, adapter, tesseraUrl) {
  const port = await freePort();
  // A minimal environment: no NODE_PATH or npm_* variables that could point into the repository.
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: appDir,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(port), ADAPTER: adapter, TESSERA_URL: tesseraUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    const wait = setTimeout(() => reject(new Error(`app (${adapter}) did not start within 30 s: ${output.trim()}`)), 30_000);
    child.stdout.on('data', (d) => {
      output += d;
      if (output.includes('guard-check app ready')) {
        clearTimeout(wait);
        resolve();
      }
    });
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (code) => {
      clearTimeout(wait);
      reject(new Error(`app (${adapter}) exited (${code}) during start-up: ${output.trim()}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(kill);
  };
  return { url: `http://127.0.0.1:${port}`, stop, output: () => output };
}

async function get(url, token) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, challenge: res.headers.get('www-authenticate') };
}

/** A token whose signature no longer matches: one character in the middle of the signature changed. */
function tamper(token) {
  const [h, p, s] = token.split('.');
  const i = Math.floor(s.length / 2);
  return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
}

async function checkApp(appDir, adapter, tesseraUrl, tokens) {
  const app = await startApp(appDir, adapter, tesseraUrl);
  cleanups.push(app.stop);
  try {
    const ok = await get(`${app.url}/guarded`, tokens.read);
    assert(
      ok.status === 200 && ok.body.sub === 'guard-check-user' && ok.body.tenantId === tokens.tenantId,
      `${adapter}: GET /guarded with a token → ${ok.status} ${JSON.stringify(ok.body)}`,
    );

    const none = await get(`${app.url}/guarded`);
    assert(
      none.status === 401 && none.body.code === 'MISSING_TOKEN' && none.body.error === 'unauthorized',
      `${adapter}: no token → ${none.status} ${JSON.stringify(none.body)}`,
    );
    assert(
      /^Bearer /.test(none.challenge ?? '') &&
        /resource_metadata="https:\/\/api\.example\.test\/\.well-known\/oauth-protected-resource\/orders"/.test(none.challenge),
      `${adapter}: no token, WWW-Authenticate: ${none.challenge}`,
    );

    const bad = await get(`${app.url}/guarded`, tamper(tokens.read));
    assert(
      bad.status === 401 && bad.body.code === 'INVALID_SIGNATURE' && /error="invalid_token"/.test(bad.challenge ?? ''),
      `${adapter}: tampered token → ${bad.status} ${JSON.stringify(bad.body)} (${bad.challenge})`,
    );

    const scope = await get(`${app.url}/guarded`, tokens.other);
    assert(
      scope.status === 403 && scope.body.code === 'INSUFFICIENT_SCOPE' && /error="insufficient_scope"/.test(scope.challenge ?? ''),
      `${adapter}: token without "read" → ${scope.status} ${JSON.stringify(scope.body)}`,
    );

    const viaPassport = await get(`${app.url}/passport`, tokens.read);
    assert(
      viaPassport.status === 200 && viaPassport.body.sub === 'guard-check-user',
      `${adapter}: passport strategy with a token → ${viaPassport.status} ${JSON.stringify(viaPassport.body)}`,
    );
    const passportBad = await get(`${app.url}/passport`, tamper(tokens.read));
    assert(
      passportBad.status === 401 && passportBad.body.code === 'INVALID_SIGNATURE',
      `${adapter}: passport strategy, tampered token → ${passportBad.status} ${JSON.stringify(passportBad.body)}`,
    );

    const metadata = await get(`${app.url}/.well-known/oauth-protected-resource/orders`);
    assert(
      metadata.status === 200 &&
        metadata.body.resource === 'https://api.example.test/orders' &&
        metadata.body.authorization_servers?.[0] === tesseraUrl,
      `${adapter}: RFC 9728 metadata → ${metadata.status} ${JSON.stringify(metadata.body)}`,
    );

    const { resolved, loaded } = (await get(`${app.url}/modules`)).body;
    const outside = (file) => !file.startsWith(appDir + sep);
    const strays = [
      ...Object.entries(resolved)
        .filter(([, file]) => outside(file) || file.startsWith(ROOT + sep))
        .map(([n, f]) => `${n} → ${f}`),
      ...loaded.filter((f) => !f.startsWith('node:') && outside(f)),
    ];
    assert(strays.length === 0, `${adapter}: modules resolved or loaded from outside the app directory:\n  ${strays.join('\n  ')}`);
    assert(
      resolved['@tessera/nest-guard'].startsWith(join(appDir, 'node_modules', '@tessera', 'nest-guard') + sep),
      `${adapter}: @tessera/nest-guard resolved to ${resolved['@tessera/nest-guard']}`,
    );
    progress(
      `${adapter}: 200 with a token, 401 without / tampered, 403 without the scope, passport strategy, RFC 9728 route; ${loaded.length} modules loaded, all under the app directory`,
    );
  } catch (error) {
    const log = app.output().trim();
    if (log) progress(`${adapter} app output:\n${log}`);
    throw error;
  } finally {
    await app.stop();
  }
}

async function main() {
  assert(existsSync(join(ROOT, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build` first');
  const work = realpathSync(mkdtempSync(join(tmpdir(), 'tessera-guard-check-')));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  assert(!work.startsWith(ROOT + sep), `temp directory ${work} is inside the repository`);
  // Node looks for node_modules in every parent directory: none may exist above the app.
  for (let dir = dirname(work); ; dir = dirname(dir)) {
    assert(!existsSync(join(dir, 'node_modules')), `${join(dir, 'node_modules')} exists: the app could resolve packages from it`);
    if (dirname(dir) === dir) break;
  }
  const appDir = join(work, 'app');
  const packDir = join(work, 'pack');
  for (const dir of [appDir, packDir]) rmSync(dir, { recursive: true, force: true });
  await run('mkdir', ['-p', appDir, packDir]);

  progress('npm pack (prepack builds the package)');
  const packed = await run('npm', ['pack', '-w', '@tessera/nest-guard', '--pack-destination', packDir, '--json', '--silent'], {
    cwd: ROOT,
  });
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  assert(tarballs.length === 1, `npm pack made ${tarballs.length} tarballs: ${packed}`);
  const tarball = join(packDir, tarballs[0]);
  const files = JSON.parse(packed.slice(packed.indexOf('[')))[0].files.map((f) => f.path);
  const unexpected = files.filter((f) => !/^(dist\/.+\.(js|d\.ts)|README\.md|CHANGELOG\.md|package\.json)$/.test(f) || /\.spec\./.test(f));
  assert(unexpected.length === 0, `the tarball holds files it should not: ${unexpected.join(', ')}`);
  progress(`packed ${tarballs[0]}: ${files.length} files (dist/*.js, dist/*.d.ts, README, CHANGELOG, package.json)`);

  const typeDeps = ['@types/node', '@types/express', '@types/passport', '@types/passport-jwt'];
  const peers = [
    '@nestjs/common',
    '@nestjs/core',
    '@nestjs/platform-express',
    '@nestjs/platform-fastify',
    'reflect-metadata',
    'rxjs',
    '@nestjs/passport',
    'passport',
    'passport-jwt',
  ];
  writeFileSync(
    join(appDir, 'package.json'),
    JSON.stringify(
      {
        name: 'tessera-guard-check-app',
        private: true,
        version: '0.0.0',
        dependencies: { '@tessera/nest-guard': `file:${tarball}`, ...Object.fromEntries(peers.map((p) => [p, installedVersion(p)])) },
        // The types Nest's own and the passport subpath's declarations name (skipLibCheck is off below).
        devDependencies: Object.fromEntries(['typescript', ...typeDeps].map((p) => [p, installedVersion(p)])),
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(appDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'commonjs',
        moduleResolution: 'node',
        target: 'ES2022',
        outDir: 'dist',
        rootDir: 'src',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
        skipLibCheck: false,
        types: ['node'],
      },
      include: ['src/**/*.ts'],
    }),
  );
  await run('mkdir', ['-p', join(appDir, 'src')]);
  writeFileSync(join(appDir, 'src', 'main.ts'), APP_MAIN);

  progress(`npm install in ${appDir} (tarball + ${peers.length} peers + typescript and ${typeDeps.length} @types, --prefer-offline)`);
  const npmEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_PATH' && k !== 'INIT_CWD'),
  );
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', '--no-workspaces'], {
    cwd: appDir,
    env: npmEnv,
    timeoutMs: 150_000,
  });
  assert(!existsSync(join(appDir, 'node_modules', '@tessera', 'nest-guard', 'src')), 'the installed package holds src/');
  assert(
    realpathSync(join(appDir, 'node_modules', '@tessera', 'nest-guard')).startsWith(appDir + sep),
    'the installed package is a link out of the app',
  );

  progress('tsc (CommonJS, moduleResolution node, skipLibCheck off: the shipped .d.ts type-check)');
  await run(process.execPath, [join(appDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: appDir,
    env: npmEnv,
  });

  progress('starting Tessera (dist/main.js, fresh database)');
  const tessera = await startTessera();
  cleanups.push(tessera.stop);
  const tenant = await createTenant(tessera, `guard-check-${Date.now()}`);
  const issue = (scope) =>
    tessera.request(
      'POST',
      `/v1/tenants/${tenant.id}/tokens`,
      { sub: 'guard-check-user', scope, refreshToken: false },
      { 'x-api-key': tenant.apiKey },
    );
  const tokens = { read: (await issue('read')).access_token, other: (await issue('write')).access_token, tenantId: tenant.id };
  progress(`Tessera at ${tessera.url}; tenant ${tenant.id}; two tokens issued`);

  for (const adapter of ['express', 'fastify']) await checkApp(appDir, adapter, tessera.url, tokens);
}

try {
  await main();
  finished = true;
  await cleanUp();
  clearTimeout(timer);
  progress('OK: the packed package works in a fresh app outside the repository');
} catch (error) {
  finished = true;
  progress(`FAILED: ${error.stack ?? error}`);
  await cleanUp();
  clearTimeout(timer);
  process.exit(1);
}
