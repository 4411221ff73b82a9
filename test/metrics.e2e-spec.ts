import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { NotificationsService } from '../src/database/notifications.service';
import { KeyRotationService } from '../src/keys/key-rotation.service';
import { METRIC_NAMES, MetricsService } from '../src/observability/metrics.service';
import { RevocationService } from '../src/revocation/revocation.service';
import { startTestApp, TestApp } from './utils/test-app';

const DEPLOY = join(__dirname, '..', 'deploy');

/** `name{labels} value` lines of a scrape, as a map from the series to its value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Polls (bounded) until `predicate` holds. */
async function eventually(predicate: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < 1000 && Date.now() - started <= ms; i++) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

describe('operator metrics on /metrics (e2e)', () => {
  let t: TestApp;
  const scrape = async () => parse((await t.http.get('/metrics').expect(200)).text);

  beforeAll(async () => {
    // A rotation publishes its key 3 s before it signs, and the lifecycle is checked every second.
    t = await startTestApp({ env: { KEY_PUBLISH_DELAY: '3', KEY_CHECK_INTERVAL: '1', DATABASE_POOL_SIZE: '3' } });
  });
  afterAll(() => t.close());

  it('measures revocation propagation from the NOTIFY payload timestamp', async () => {
    const count = `${METRIC_NAMES.revocationPropagation}_count`;
    const before = (await scrape()).get(count) ?? 0;
    const tenant = (await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).send({ name: 'metrics-revoke' }).expect(201)).body;
    const listener = new Client({ connectionString: t.databaseUrl });
    await listener.connect();
    const payload = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.payload ?? '')));
    await listener.query('LISTEN tessera_denylist');
    const jti = randomUUID();
    const written = Date.now();
    await t.tessera.app.get(RevocationService).revokeAccessToken(tenant.id, jti, new Date(Date.now() + 600_000));
    const sent = JSON.parse(await payload) as { t: string; jti: string; ts: number };
    await listener.end();
    expect(sent).toMatchObject({ t: 'jti', jti, ts: expect.any(Number) });
    // The database's clock, in milliseconds; same machine here.
    expect(Math.abs(sent.ts - written)).toBeLessThan(5000);
    // This replica's own NOTIFY comes back to its listener: one observation.
    await eventually(async () => ((await scrape()).get(count) ?? 0) === before + 1, 3000, 'one more propagation observation');
    const after = await scrape();
    // A local round trip: well inside the 1 s bucket (the bound is the design's, not a speed test).
    expect(after.get(`${METRIC_NAMES.revocationPropagation}_bucket{le="1"}`)).toBe(before + 1);
  });

  it('shows notification health: listening, healthy, not polling, and the last notification time moves', async () => {
    const first = await scrape();
    for (const channel of ['tessera_denylist', 'tessera_signing_keys']) {
      expect(first.get(`${METRIC_NAMES.notificationListening}{channel="${channel}"}`)).toBe(1);
      expect(first.get(`${METRIC_NAMES.notificationHealthy}{channel="${channel}"}`)).toBe(1);
    }
    expect(first.get(METRIC_NAMES.notificationFallbackPolling)).toBe(0);
    expect(first.get(METRIC_NAMES.notificationFallbackPollInterval)).toBe(5);
    const last = `${METRIC_NAMES.notificationLastReceived}{channel="tessera_signing_keys"}`;
    const before = first.get(last)!;
    expect(before).toBeGreaterThan(Date.now() / 1000 - 600);
    await new Promise((r) => setTimeout(r, 20));
    // The periodic self-test (run now instead of after DENYLIST_RELOAD_INTERVAL) is a notification too.
    await t.tessera.app.get(NotificationsService).probeAll();
    expect((await scrape()).get(last)!).toBeGreaterThan(before);
  });

  it('shows the key lifecycle: seconds until the next activation, then until the next retirement, and the keys by status', async () => {
    const initial = await scrape();
    expect(initial.get(`${METRIC_NAMES.keys}{algorithm="RS256",status="active"}`)).toBe(1);
    expect(initial.has(`${METRIC_NAMES.keyNextActivation}{algorithm="RS256"}`)).toBe(false);

    await t.tessera.app.get(KeyRotationService).rotate(false);
    const pending = await scrape();
    const untilActive = pending.get(`${METRIC_NAMES.keyNextActivation}{algorithm="RS256"}`)!;
    expect(untilActive).toBeGreaterThan(0);
    expect(untilActive).toBeLessThanOrEqual(3);
    expect(pending.get(`${METRIC_NAMES.keys}{algorithm="RS256",status="pending"}`)).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect((await scrape()).get(`${METRIC_NAMES.keyNextActivation}{algorithm="RS256"}`)!).toBeLessThan(untilActive);

    // Activated by the periodic check: the previous key now retires after the token lifetime plus tolerance.
    await eventually(
      async () => (await scrape()).has(`${METRIC_NAMES.keyNextRetirement}{algorithm="RS256"}`),
      8000,
      'the previous key retiring',
    );
    const retiring = await scrape();
    expect(retiring.has(`${METRIC_NAMES.keyNextActivation}{algorithm="RS256"}`)).toBe(false);
    const untilRetired = retiring.get(`${METRIC_NAMES.keyNextRetirement}{algorithm="RS256"}`)!;
    expect(untilRetired).toBeGreaterThan(600 + 30 - 10);
    expect(untilRetired).toBeLessThanOrEqual(600 + 30);
    expect(retiring.get(`${METRIC_NAMES.keys}{algorithm="RS256",status="retiring"}`)).toBe(1);
  });

  it('shows the database pool: connections in use, idle, and queries waiting for one', async () => {
    const metrics = t.tessera.app.get(MetricsService);
    const read = async () => parse(await metrics.registry.metrics());
    expect((await read()).get(METRIC_NAMES.poolMax)).toBe(3);
    const dataSource = t.tessera.app.get(DataSource);
    const held: QueryRunner[] = [];
    try {
      // Hold every connection of the pool; one more query must wait.
      for (let i = 0; i < 3; i++) {
        const runner = dataSource.createQueryRunner();
        await runner.connect();
        held.push(runner);
      }
      const busy = await read();
      expect(busy.get(METRIC_NAMES.poolOpen)).toBe(3);
      expect(busy.get(METRIC_NAMES.poolIdle)).toBe(0);
      const waiting = dataSource.query('SELECT 1');
      await eventually(async () => (await read()).get(METRIC_NAMES.poolWaiting) === 1, 2000, 'a query waiting');
      await held.pop()!.release();
      await waiting;
      expect((await read()).get(METRIC_NAMES.poolWaiting)).toBe(0);
    } finally {
      for (const runner of held) await runner.release();
    }
    expect((await read()).get(METRIC_NAMES.poolIdle)).toBeGreaterThan(0);
  });

  it('has every metric that deploy/grafana and deploy/prometheus use', async () => {
    const text = (await t.http.get('/metrics').expect(200)).text;
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const used = (file: string) => {
      const names = new Set<string>();
      for (const m of readFileSync(join(DEPLOY, file), 'utf8').matchAll(
        /\b(tessera_[a-z_]+|http_request_[a-z_]+|process_[a-z_]+|nodejs_[a-z0-9_]+)\b/g,
      )) {
        // Histogram series are published under the histogram's name.
        names.add(m[1].replace(/_(bucket|count|sum)$/, ''));
      }
      return [...names];
    };
    const dashboard = used('grafana/tessera-dashboard.json');
    const alerts = used('prometheus/alerts.yml');
    expect(dashboard.length).toBeGreaterThan(10);
    expect(alerts.length).toBeGreaterThan(5);
    // Channel names are label values, not metrics.
    const missing = [...dashboard, ...alerts].filter((n) => !exposed.has(n) && !['tessera_denylist', 'tessera_signing_keys'].includes(n));
    expect(missing).toEqual([]);
    for (const name of Object.values(METRIC_NAMES)) expect(exposed).toContain(name);
  });
});
