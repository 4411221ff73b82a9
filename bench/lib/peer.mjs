// Starts the node-oidc-provider peer in its own process and waits until it listens.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './tessera.mjs';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers', 'oidc-provider.mjs');

export async function startOidcProvider(alg) {
  const port = await freePort();
  const child = spawn(process.execPath, [SCRIPT, String(port), alg], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node-oidc-provider did not start within 20 s')), 20_000);
    child.stdout.on('data', (d) => String(d).includes('ready') && (clearTimeout(timer), resolve()));
    child.once('exit', (code) => reject(new Error(`node-oidc-provider exited (${code})`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    basic: `Basic ${Buffer.from('bench:bench-secret-bench-secret-bench-secret').toString('base64')}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
