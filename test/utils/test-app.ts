import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createApp, TesseraApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/load-config';

/** The Postgres server of this run (set by global-setup.ts). */
export function serverUrl(): string {
  const url = process.env.TESSERA_TEST_SERVER_URL;
  if (!url) throw new Error('TESSERA_TEST_SERVER_URL is not set: run e2e tests through jest (global-setup.ts)');
  return url;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A fresh, empty database for one suite, so suites never see each other's rows. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tessera_e2e_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDatabase(serverUrl(), name),
    drop: async () => {
      const c = new Client({ connectionString: serverUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestApp {
  tessera: TesseraApp;
  http: TestAgent;
  adminKey: string;
  databaseUrl: string;
  /** Every log line the app wrote so far. */
  logs(): string;
  /** Runs SQL on the suite's database (to read rows as they are stored). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Use this database URL instead of a fresh database (e.g. a proxy in front of one). */
  databaseUrl?: string;
}

/** Boots the real app (Fastify, real migrations) on a fresh database, with its logs captured. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? db!.url;
  const adminKey = `admin_${randomBytes(24).toString('base64url')}`;
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const { config, warnings } = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    ADMIN_API_KEY: adminKey,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-e2e-data-')),
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_IP: '0',
    RATE_LIMIT_PER_API_KEY: '0',
    RATE_LIMIT_PUBLIC_PER_IP: '0',
    RATE_LIMIT_CREDENTIALS_PER_IP: '0',
    ...options.env,
  });
  const tessera = await createApp({ config, warnings, logStream });
  await tessera.app.init();
  await tessera.app.getHttpAdapter().getInstance().ready();
  const http = request(tessera.app.getHttpServer());
  const pool = new Client({ connectionString: databaseUrl });
  let poolConnected = false;
  return {
    tessera,
    http,
    adminKey,
    databaseUrl,
    logs: () => lines.join(''),
    sql: async <T>(text: string, params?: unknown[]) => {
      if (!poolConnected) {
        await pool.connect();
        poolConnected = true;
      }
      return (await pool.query(text, params)).rows as T[];
    },
    close: async () => {
      if (poolConnected) await pool.end();
      await tessera.close();
      await db?.drop();
    },
  };
}
