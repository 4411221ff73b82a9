import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Scheduler } from '../common/scheduling/scheduler';
import { AppConfig } from '../config/app-config';
import { MetricsService, NotificationChannelState } from '../observability/metrics.service';
import { connectionStringOf, PgListener } from './pg-listener';

/** What a feature that follows a table through NOTIFY provides. */
export interface NotificationSubscriber {
  /** A NOTIFY payload on the channel (self-tests are not passed on). */
  onNotification(payload: string): void;
  /** LISTEN is in place (first time or after a reconnect): notifications may have been missed, reload. */
  onListening(): Promise<void>;
  /** Notifications do not arrive: reload from the tables. Called every NOTIFY_FALLBACK_POLL_INTERVAL meanwhile. */
  poll(): Promise<void>;
}

export interface ListenerNames {
  /** Shown in pg_stat_activity, e.g. `tessera-denylist`. */
  applicationName: string;
  /** For log lines, e.g. `Revocation listener`. */
  description: string;
}

/** How long a self-test NOTIFY may take to come back before the channel counts as deaf. */
export const PROBE_TIMEOUT_MS = 2000;

interface Channel {
  channel: string;
  /** The last self-test came back; undefined before the first one. */
  healthy?: boolean;
  /** Epoch milliseconds of the last notification received (self-tests included). */
  lastReceivedAt?: number;
  subscriber: NotificationSubscriber;
  listener: PgListener;
  /** Self-tests in flight: id → resolve(arrived). */
  probes: Map<string, (arrived: boolean) => void>;
}

/**
 * LISTEN for the features that follow tables (denylist, signing keys), with a self-test.
 *
 * LISTEN needs a session. Through a transaction-pooling PgBouncer the LISTEN statement
 * succeeds on some server connection that is then handed to other clients, and nothing ever
 * arrives: a silent failure. So each channel is tested: once LISTEN is in place, and again
 * every DENYLIST_RELOAD_INTERVAL, a NOTIFY with a random id is sent the way the application
 * sends its own (through the pool, DATABASE_URL) and must come back on the LISTEN connection
 * (DATABASE_SESSION_URL when set) within PROBE_TIMEOUT_MS. A channel whose self-test fails, or
 * whose LISTEN connection is down, is polled every NOTIFY_FALLBACK_POLL_INTERVAL; one warning
 * names the fix, and a line says when notifications arrive again (docs/adr/0010).
 */
@Injectable()
export class NotificationsService implements OnModuleDestroy {
  private readonly logger = new Logger('Notifications');
  private readonly channels = new Map<string, Channel>();
  private jobsStarted = false;
  /** Set once the warning was logged; cleared when every channel is healthy again. */
  private warned = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    metrics: MetricsService,
    private readonly scheduler: Scheduler,
  ) {
    metrics.useNotificationSource(
      (): NotificationChannelState[] =>
        [...this.channels.values()].map((c) => ({
          channel: c.channel,
          listening: c.listener.isListening,
          healthy: c.healthy,
          lastReceivedAt: c.lastReceivedAt,
        })),
      () => ({ active: this.isPolling(), intervalSeconds: this.config.notifyFallbackPollIntervalSeconds }),
    );
  }

  /** Where LISTEN connects: DATABASE_SESSION_URL when set, else the pool's own URL. */
  get listenUrl(): string {
    return this.config.database.sessionUrl ?? connectionStringOf(this.dataSource);
  }

  /** LISTENs on `channel` and runs the first self-test (at most PROBE_TIMEOUT_MS). Never throws for a database problem. */
  async listen(channel: string, names: ListenerNames, subscriber: NotificationSubscriber): Promise<void> {
    if (this.channels.has(channel)) throw new Error(`${channel} has a subscriber already`);
    const state: Channel = {
      channel,
      subscriber,
      probes: new Map(),
      listener: new PgListener(
        { connectionString: this.listenUrl, channel, applicationName: names.applicationName },
        {
          onNotification: (payload) => this.received(state, payload),
          onListening: async () => {
            await subscriber.onListening();
            await this.probe(state);
          },
          onLost: (reason, retryInMs) =>
            this.logger.warn(`${names.description} connection lost (${reason}); retrying in ${retryInMs} ms, polling meanwhile`),
        },
      ),
    };
    this.channels.set(channel, state);
    await state.listener.start();
    this.startTimers();
  }

  /** Before the pool closes (TypeORM closes it at application shutdown), so no notification starts a reload on it. */
  async onModuleDestroy(): Promise<void> {
    for (const c of this.channels.values()) {
      for (const resolve of c.probes.values()) resolve(false);
      await c.listener.stop();
    }
  }

  /** True while the LISTEN connection of `channel` is up. */
  isListening(channel: string): boolean {
    return this.channels.get(channel)?.listener.isListening ?? false;
  }

  /** True while at least one channel is polled instead of notified. */
  isPolling(): boolean {
    return [...this.channels.values()].some((c) => this.needsPolling(c));
  }

  /** Runs the self-test on every channel now (the periodic job; tests call it to skip the wait). */
  async probeAll(): Promise<void> {
    await Promise.all([...this.channels.values()].map((c) => this.probe(c)));
  }

  private needsPolling(c: Channel): boolean {
    return c.healthy === false || !c.listener.isListening;
  }

  private startTimers(): void {
    if (this.jobsStarted) return;
    this.jobsStarted = true;
    this.scheduler.every({
      name: 'Notification self-test',
      intervalSeconds: this.config.denylistReloadIntervalSeconds,
      run: () => this.probeAll(),
    });
    // The scheduler never overlaps runs: a reload slower than the interval (a large denylist, a slow database) is not stacked up.
    this.scheduler.every({
      name: 'Polling while notifications do not arrive',
      intervalSeconds: this.config.notifyFallbackPollIntervalSeconds,
      run: () => this.pollDeaf(),
    });
  }

  private async pollDeaf(): Promise<void> {
    for (const c of this.channels.values()) {
      if (!this.needsPolling(c)) continue;
      await c.subscriber
        .poll()
        .catch((error: Error) =>
          this.logger.warn(`Polling ${c.channel} failed, retrying in ${this.config.notifyFallbackPollIntervalSeconds} s: ${error.message}`),
        );
    }
  }

  private received(c: Channel, payload: string): void {
    c.lastReceivedAt = Date.now();
    const probeId = probeIdOf(payload);
    if (probeId === undefined) {
      c.subscriber.onNotification(payload);
      return;
    }
    // Other replicas' self-tests arrive too; only this replica's own count for its health.
    c.probes.get(probeId)?.(true);
  }

  /** Sends a self-test NOTIFY through the pool and waits for it on the LISTEN connection. */
  private async probe(c: Channel): Promise<void> {
    if (!c.listener.isListening) return;
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<boolean>((resolve) => {
      c.probes.set(id, resolve);
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    try {
      await this.dataSource.query(`SELECT pg_notify($1, $2)`, [c.channel, JSON.stringify({ t: 'probe', id })]);
    } catch (error) {
      // The database is away: that says nothing about notifications; the next self-test decides.
      c.probes.get(id)?.(false);
      c.probes.delete(id);
      clearTimeout(timer);
      this.logger.warn(`Notification self-test on ${c.channel} could not be sent: ${(error as Error).message}`);
      return;
    }
    const ok = await arrived;
    clearTimeout(timer);
    c.probes.delete(id);
    if (!c.listener.isListening) return;
    this.setHealth(c, ok);
  }

  private setHealth(c: Channel, healthy: boolean): void {
    const was = c.healthy;
    c.healthy = healthy;
    if (healthy) {
      if (was === false) this.logger.log(`Notifications on ${c.channel} arrive again; polling for it stopped`);
      if ([...this.channels.values()].every((x) => x.healthy !== false)) this.warned = false;
      return;
    }
    if (was !== false) {
      // Catch up at once rather than at the next poll.
      void c.subscriber.poll().catch((error: Error) => this.logger.warn(`Polling ${c.channel} failed: ${error.message}`));
    }
    if (this.warned) return;
    this.warned = true;
    const via = this.config.database.sessionUrl ? 'DATABASE_SESSION_URL' : 'DATABASE_URL';
    this.logger.warn(
      `Notifications do not arrive: a NOTIFY self-test on ${c.channel} did not come back on the LISTEN connection (${via}) within ${PROBE_TIMEOUT_MS} ms. ` +
        `Revocations and key changes made by other replicas now reach this one by polling every ${this.config.notifyFallbackPollIntervalSeconds} s ` +
        `(NOTIFY_FALLBACK_POLL_INTERVAL) instead of within a second. ` +
        (this.config.database.sessionUrl
          ? 'Check that DATABASE_SESSION_URL connects directly to the same Postgres database as DATABASE_URL, not through a transaction pooler.'
          : 'If DATABASE_URL goes through PgBouncer in transaction mode, set DATABASE_SESSION_URL to a direct connection to the same Postgres database.'),
    );
  }
}

/** The id of a self-test payload (`{"t":"probe","id":…}`), undefined for any other payload. */
function probeIdOf(payload: string): string | undefined {
  if (!payload.startsWith('{"t":"probe"')) return undefined;
  try {
    const parsed = JSON.parse(payload) as { t?: unknown; id?: unknown };
    return parsed.t === 'probe' && typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
