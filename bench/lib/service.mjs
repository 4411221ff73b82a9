// Starts a Node service in its own process and waits for the line it prints once it listens;
// used for examples/consumer and the peers, plain passport-jwt and jose (TypeScript through swc-register).
import { spawn } from 'node:child_process';
import { ROOT, freePort } from './tessera.mjs';

const SWC_REGISTER = './examples/consumer/swc-register.cjs';

/**
 * `node -r swc-register <script>` from the repository root with `env` (plus PORT and HOST),
 * resolved when stdout shows `ready` (a string); bounded by `timeoutMs`. Returns { url, stop() }.
 */
export async function startTsService(script, { env = {}, ready, timeoutMs = 30_000, name = script } = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', SWC_REGISTER, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s: ${output.trim()}`)), timeoutMs);
      const onData = (d) => {
        output += d;
        if (output.includes(ready)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (d) => (output += d));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code}) during start-up: ${output.trim()}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** examples/consumer on `adapter`, trusting the issuer at `issuerUrl` (its JWKS at /.well-known/jwks.json). */
export function startConsumer({ adapter, issuerUrl, verifiedCacheSize, dpop = false }) {
  return startTsService('examples/consumer/main.ts', {
    name: `examples/consumer (${adapter}${dpop ? ', DPoP' : ''})`,
    ready: 'Consumer listening',
    env: { TESSERA_URL: issuerUrl, ADAPTER: adapter, VERIFIED_CACHE_SIZE: String(verifiedCacheSize), ...(dpop ? { DPOP: 'on' } : {}) },
  });
}

/** bench/peers/plain-guard.ts: passport-jwt + jwks-rsa as the docs show it, same adapter and issuer. */
export function startPlainGuard({ adapter, issuerUrl }) {
  return startTsService('bench/peers/plain-guard.ts', {
    name: `plain passport-jwt guard (${adapter})`,
    ready: 'Plain guard listening',
    env: { ISSUER: issuerUrl, AUDIENCE: issuerUrl, JWKS_URI: `${issuerUrl}/.well-known/jwks.json`, ADAPTER: adapter },
  });
}

/** bench/peers/jose-guard.ts: jose jwtVerify + createRemoteJWKSet in a Nest guard, same adapter and issuer. */
export function startJoseGuard({ adapter, issuerUrl }) {
  return startTsService('bench/peers/jose-guard.ts', {
    name: `jose guard (${adapter})`,
    ready: 'jose guard listening',
    env: { ISSUER: issuerUrl, AUDIENCE: issuerUrl, JWKS_URI: `${issuerUrl}/.well-known/jwks.json`, ADAPTER: adapter },
  });
}
