import { Client } from 'pg';
import type { DataSource } from 'typeorm';

export interface PgListenerHandlers {
  /** A NOTIFY payload on the channel. */
  onNotification(payload: string): void;
  /** LISTEN is in place (first time or after a reconnect): notifications may have been missed, reload. */
  onListening(): Promise<void>;
  /** The connection failed or dropped; a retry is scheduled after `retryInMs`. */
  onLost(reason: string, retryInMs: number): void;
}

export interface PgListenerOptions {
  connectionString: string;
  channel: string;
  /** Shown in pg_stat_activity, e.g. `tessera-denylist`. */
  applicationName: string;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A dedicated Postgres connection (not from the TypeORM pool: a pooled connection is handed
 * to other queries and LISTEN state would be lost) that LISTENs on one channel and reconnects
 * with exponential backoff, capped, when the connection drops.
 */
export class PgListener {
  private client?: Client;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly options: PgListenerOptions,
    private readonly handlers: PgListenerHandlers,
  ) {}

  get isListening(): boolean {
    return this.client !== undefined;
  }

  /** Tries once now; on failure keeps retrying in the background. Never throws. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    // An error on an idle client is emitted, not thrown: without a listener it would crash the process.
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    client.on('notification', (message) => {
      if (this.client === client && message.channel === this.options.channel && message.payload)
        this.handlers.onNotification(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.scheduleRetry((error as Error).message);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    try {
      await this.handlers.onListening();
    } catch (error) {
      // Listening works; the periodic backstop reload will catch up.
      this.handlers.onLost(`reload after LISTEN failed: ${(error as Error).message}`, 0);
    }
  }

  private lost(client: Client, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    this.scheduleRetry(reason);
  }

  private scheduleRetry(reason: string): void {
    if (this.stopped) return;
    const initial = this.options.initialBackoffMs ?? 250;
    const delay = Math.min(initial * 2 ** this.failures, this.options.maxBackoffMs ?? 10_000);
    this.failures++;
    this.handlers.onLost(reason, delay);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}

/** The URL of the pool's database, for a dedicated connection such as a listener. */
export function connectionStringOf(dataSource: DataSource): string {
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('A LISTEN connection needs the database URL');
  return url;
}
