import { randomBytes } from 'node:crypto';
import { MIGRATIONS } from '../src/database/migrations';
import { createTestDatabase, startTestApp, TestApp } from './utils/test-app';

describe('several replicas starting together on a fresh database (e2e)', () => {
  const apps: TestApp[] = [];
  let drop: () => Promise<void>;

  afterAll(async () => {
    for (const app of apps) await app.close();
    await drop?.();
  });

  it('apply each migration once and create exactly one signing key', async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    // Same secrets, as replicas of one deployment have.
    const env = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
    const started = await Promise.allSettled([1, 2, 3].map(() => startTestApp({ databaseUrl: db.url, env })));
    for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);
    expect(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started']);

    const [t] = apps;
    const migrations = await t.sql<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    expect(migrations.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    const keys = await t.sql<{ status: string }>('SELECT status FROM signing_keys');
    expect(keys).toEqual([{ status: 'active' }]);
    for (const app of apps) await app.http.get('/health/ready').expect(200);
  });
});
