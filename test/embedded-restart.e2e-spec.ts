import { mkdtempSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runMain, waitFor } from './utils/process';

describe('npm start with nothing configured (embedded Postgres)', () => {
  it('starts on a real embedded Postgres, stops cleanly, and finds its data on the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-embedded-'));
    chmodSync(dataDir, 0o755);
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir };
    const base = `http://127.0.0.1:${port}`;

    const first = runMain(env);
    try {
      await waitFor(() => first.output().includes('Tessera listening'), 60000, 'first start');
      expect(first.output()).toContain(`database: embedded Postgres, data in ${join(dataDir, 'postgres')}`);
      expect(first.output()).toContain('ADMIN_API_KEY was not set: generated one');
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      const { ADMIN_API_KEY: admin } = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { ADMIN_API_KEY: string };
      const created = await fetch(`${base}/v1/tenants`, {
        method: 'POST',
        headers: { 'x-api-key': admin, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'survives-restart' }),
      });
      expect(created.status).toBe(201);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      const second = runMain(env);
      try {
        await waitFor(() => second.output().includes('Tessera listening'), 60000, 'second start');
        expect(second.output()).not.toContain('was not set: generated');
        const list = await fetch(`${base}/v1/tenants`, { headers: { 'x-api-key': admin } });
        expect(((await list.json()) as { name: string }[]).map((t) => t.name)).toEqual(['survives-restart']);
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
      } finally {
        second.child.kill('SIGKILL');
      }
    } finally {
      first.child.kill('SIGKILL');
    }
  });
});
