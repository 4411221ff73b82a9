// CPU profile of examples/consumer under load (the V8 profiler of `node --cpu-prof`, started after
// start-up and warm-up by bench/lib/profile-on-signal.cjs), for bench/RESULTS.md:
//   node bench/profile-guard.mjs [--root=DIR] [--adapter=fastify] [--duration=10] [--connections=50] [--hot]
//   node bench/profile-guard.mjs --analyze=FILE.cpuprofile   (the summary of a profile already taken)
// --root profiles another checkout of the repository (e.g. a build of an older commit, to compare
// before/after); the load and the tokens are the guard scenario's (RS256, distinct tokens, or one
// hot token with --hot). Prints where the consumer's CPU went, by self time and by area; the
// .cpuprofile file is left in bench/results/ (open it in Chrome DevTools).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rsaKey, signMany, startJwksServer, writeTokens } from './lib/jwt.mjs';
import { loadOnce } from './lib/load.mjs';
import { freePort, ROOT as HERE } from './lib/tessera.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const root = resolve(args.root ?? HERE);
const adapter = args.adapter ?? 'fastify';
const durationSec = Number(args.duration ?? 10);
const connections = Number(args.connections ?? 50);
const hot = args.hot === 'true';

let profileFile = args.analyze;
let summary = `profile ${profileFile}`;
if (!profileFile) ({ profileFile, summary } = await takeProfile());

async function takeProfile() {
  const key = rsaKey();
  const jwks = await startJwksServer([key.jwk]);
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', kid: key.kid, typ: 'at+jwt' };
  const claims = (i) => ({ iss: jwks.url, aud: jwks.url, sub: `user-${i}`, scope: 'read', iat: now, exp: now + 3600, jti: randomUUID() });
  const tokensFile = writeTokens(hot ? 'profile-hot' : 'profile-distinct', signMany(hot ? 1 : 10_000, header, claims, key.privateKey));

  const port = await freePort();
  const outDir = join(HERE, 'bench', 'results', `profile-${Date.now()}`);
  mkdirSync(outDir, { recursive: true });
  const profileFile = join(outDir, `consumer-${adapter}-${hot ? 'hot' : 'distinct'}.cpuprofile`);
  const child = spawn(
    process.execPath,
    ['-r', './examples/consumer/swc-register.cjs', '-r', join(HERE, 'bench/lib/profile-on-signal.cjs'), 'examples/consumer/main.ts'],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        TESSERA_URL: jwks.url,
        ADAPTER: adapter,
        VERIFIED_CACHE_SIZE: hot ? '10000' : '1',
        CPU_PROFILE_FILE: profileFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.once('exit', r));
  const started = Date.now();
  while (!output.includes('Consumer listening')) {
    if (child.exitCode !== null || Date.now() - started > 30_000) throw new Error(`consumer did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `http://127.0.0.1:${port}/guarded`;
  await loadOnce({ url, tokensFile, connections, durationSec: 2 }); // warm-up (JIT, JWKS fetch), not profiled
  child.kill('SIGWINCH'); // profiler on
  await new Promise((r) => setTimeout(r, 200));
  const result = await loadOnce({ url, tokensFile, connections, durationSec });
  child.kill('SIGWINCH'); // profile written, process exits
  await exited;
  await jwks.close();
  return {
    profileFile,
    summary: `root ${root} · ${adapter} · ${hot ? 'one hot token' : '10000 distinct tokens'} · ${connections} connections · ${durationSec} s · ${Math.round(result.rps)} req/s (p50 ${result.p50} ms, p99 ${result.p99} ms)`,
  };
}
const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
const self = new Map();
const areas = new Map();
const areaOf = (url, name) => {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)' || name === '(program)') return name;
  // crypto.verify runs a native SignJob synchronously: its `run` and `SignJob` frames are the RSA check.
  if (url === '' && (name === 'run' || name === 'SignJob' || name === 'verify')) return 'node:crypto signature check (native)';
  if (url === '' && (name === 'Hash' || name === 'update' || name === 'digest')) return 'node:crypto hashing (native)';
  if (/verify|Verify/.test(name) && url.startsWith('node:internal/crypto')) return 'node:crypto signature check (native)';
  if (name === 'writev' || name === 'writevGeneric' || name === 'writeGeneric') return 'socket writes';
  if (url.includes('nest-guard')) return 'guard package';
  if (url.includes('passport')) return 'passport / passport-jwt';
  if (url.includes('jsonwebtoken') || url.includes('jws') || url.includes('jwa')) return 'jsonwebtoken';
  if (url.includes('lru-cache')) return 'lru-cache';
  if (url.includes('@nestjs')) return 'Nest';
  if (url.includes('fastify') || url.includes('find-my-way') || url.includes('avvio') || url.includes('light-my-request')) return 'Fastify';
  if (url.includes('express') || url.includes('router')) return 'Express';
  if (url.startsWith('node:') || url === '') return 'node internals (http, net, native)';
  return 'other';
};
for (const n of profile.nodes) {
  const { functionName, url } = n.callFrame;
  const name = functionName || '(anonymous)';
  const k = `${name} ${url.replace(/^.*node_modules\//, '').replace(root, '.')}`;
  self.set(k, (self.get(k) ?? 0) + (n.hitCount ?? 0));
  const a = areaOf(url, name);
  areas.set(a, (areas.get(a) ?? 0) + (n.hitCount ?? 0));
}
const busy = total - (areas.get('(idle)') ?? 0);
const pct = (v, of = busy) => `${((100 * v) / of).toFixed(1)} %`;
console.log(summary);
console.log(`profile: ${profileFile} (${total} samples, ${pct(busy, total)} busy)`);
console.log('\nby area (share of busy samples):');
for (const [a, v] of [...areas].filter(([a]) => a !== '(idle)').sort((x, y) => y[1] - x[1])) console.log(`  ${a}: ${pct(v)}`);
console.log('\ntop self time:');
for (const [k, v] of [...self]
  .filter(([k]) => !k.startsWith('(idle)'))
  .sort((x, y) => y[1] - x[1])
  .slice(0, 15))
  console.log(`  ${pct(v)}  ${k}`);
