import { createServer, Server, Socket } from 'node:net';
import { createTestDatabase, startTestApp, TestApp } from './test-app';

/** A TCP proxy a test owns, so a database can "go away" and come back without touching the shared server. */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<number> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/**
 * The real app on a fresh database reached through a TcpProxy the test owns: `proxy.down()`
 * takes the database away, `proxy.up()` brings it back. `close()` undoes everything.
 */
export async function startTestAppBehindProxy(
  env: Record<string, string> = {},
): Promise<{ t: TestApp; proxy: TcpProxy; close(): Promise<void> }> {
  const db = await createTestDatabase();
  const real = new URL(db.url);
  const proxy = new TcpProxy({ host: real.hostname, port: Number(real.port) });
  const proxied = new URL(db.url);
  proxied.port = String(await proxy.up());
  const t = await startTestApp({ databaseUrl: proxied.toString(), env });
  return {
    t,
    proxy,
    close: async () => {
      await t.close();
      await proxy.down().catch(() => undefined);
      await db.drop();
    },
  };
}
