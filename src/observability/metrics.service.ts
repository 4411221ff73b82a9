import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The pg pool behind TypeORM, as counted by `pg.Pool`. */
export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** A LISTEN channel as this replica sees it. */
export interface NotificationChannelState {
  channel: string;
  /** The LISTEN connection is up. */
  listening: boolean;
  /** The last self-test NOTIFY came back; undefined before the first one. */
  healthy?: boolean;
  /** Epoch milliseconds of the last notification received on the channel (self-tests included). */
  lastReceivedAt?: number;
}

/** The key set as last loaded: when the next pending key activates and retiring keys leave, per algorithm. */
export interface KeyLifecycle {
  activations: Array<{ algorithm: string; at: Date }>;
  retirements: Array<{ algorithm: string; at: Date }>;
  counts: Array<{ algorithm: string; status: string; count: number }>;
}

/**
 * Names of Tessera's own metrics (beyond the process defaults). deploy/grafana and
 * deploy/prometheus use these; test/metrics.e2e-spec.ts checks that each is on /metrics.
 */
export const METRIC_NAMES = {
  httpDuration: 'http_request_duration_seconds',
  revocationPropagation: 'tessera_revocation_propagation_seconds',
  notificationLastReceived: 'tessera_notification_last_received_timestamp_seconds',
  notificationListening: 'tessera_notification_listening',
  notificationHealthy: 'tessera_notification_healthy',
  notificationFallbackPolling: 'tessera_notification_fallback_polling',
  notificationFallbackPollInterval: 'tessera_notification_fallback_poll_interval_seconds',
  keyNextActivation: 'tessera_signing_key_next_activation_seconds',
  keyNextRetirement: 'tessera_signing_key_next_retirement_seconds',
  keys: 'tessera_signing_keys',
  poolOpen: 'tessera_db_pool_connections_open',
  poolIdle: 'tessera_db_pool_connections_idle',
  poolWaiting: 'tessera_db_pool_waiting_queries',
  poolMax: 'tessera_db_pool_connections_max',
} as const;

/**
 * Prometheus registry of this app instance: process metrics, an HTTP histogram, and the
 * operator metrics of docs/adr/0010 (revocation propagation, notification health, key
 * lifecycle, pool use). Gauges read their value at scrape time from the source the owning
 * service registers, so nothing is computed between scrapes.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly httpDuration = new Histogram({
    name: METRIC_NAMES.httpDuration,
    help: 'HTTP request duration by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly revocationPropagation = new Histogram({
    name: METRIC_NAMES.revocationPropagation,
    help: 'Time from a denylist change being written (timestamp in the NOTIFY payload, database clock) to this replica applying it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private pool: () => PoolUse | undefined = () => undefined;
  private channels: () => NotificationChannelState[] = () => [];
  private polling: () => { active: boolean; intervalSeconds: number } = () => ({ active: false, intervalSeconds: 0 });
  private keys: () => KeyLifecycle = () => ({ activations: [], retirements: [], counts: [] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    // prom-client calls collect() with `this` bound to the metric; the service is reached through `self`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new Gauge({
      name: METRIC_NAMES.poolOpen,
      help: 'Connections the database pool holds (in use plus idle)',
      registers,
      collect() {
        const use = self.pool();
        if (use) this.set(use.total);
      },
    });
    new Gauge({
      name: METRIC_NAMES.poolIdle,
      help: 'Idle connections in the database pool',
      registers,
      collect() {
        const use = self.pool();
        if (use) this.set(use.idle);
      },
    });
    new Gauge({
      name: METRIC_NAMES.poolWaiting,
      help: 'Queries waiting for a free pool connection (above 0 for long: DATABASE_POOL_SIZE or the database is the limit)',
      registers,
      collect() {
        const use = self.pool();
        if (use) this.set(use.waiting);
      },
    });
    new Gauge({
      name: METRIC_NAMES.poolMax,
      help: 'Size limit of the database pool (DATABASE_POOL_SIZE)',
      registers,
      collect() {
        const use = self.pool();
        if (use) this.set(use.max);
      },
    });
    new Gauge({
      name: METRIC_NAMES.notificationLastReceived,
      help: 'Unix time of the last NOTIFY received on the channel (self-tests included, one per reload interval at least)',
      labelNames: ['channel'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of self.channels()) if (c.lastReceivedAt !== undefined) this.set({ channel: c.channel }, c.lastReceivedAt / 1000);
      },
    });
    new Gauge({
      name: METRIC_NAMES.notificationListening,
      help: '1 while the LISTEN connection of the channel is up',
      labelNames: ['channel'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of self.channels()) this.set({ channel: c.channel }, c.listening ? 1 : 0);
      },
    });
    new Gauge({
      name: METRIC_NAMES.notificationHealthy,
      help: '1 when the last self-test NOTIFY came back on the channel, 0 when it did not (then the replica polls)',
      labelNames: ['channel'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of self.channels()) if (c.healthy !== undefined) this.set({ channel: c.channel }, c.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: METRIC_NAMES.notificationFallbackPolling,
      help: '1 while this replica polls for revocations and key changes because notifications do not arrive (set DATABASE_SESSION_URL)',
      registers,
      collect() {
        this.set(self.polling().active ? 1 : 0);
      },
    });
    new Gauge({
      name: METRIC_NAMES.notificationFallbackPollInterval,
      help: 'NOTIFY_FALLBACK_POLL_INTERVAL: the delay bound for revocations while polling',
      registers,
      collect() {
        this.set(self.polling().intervalSeconds);
      },
    });
    new Gauge({
      name: METRIC_NAMES.keyNextActivation,
      help: 'Seconds until the next pending signing key of the algorithm starts signing (negative: overdue)',
      labelNames: ['algorithm'] as const,
      registers,
      collect() {
        this.reset();
        for (const [algorithm, at] of earliest(self.keys().activations)) this.set({ algorithm }, (at - Date.now()) / 1000);
      },
    });
    new Gauge({
      name: METRIC_NAMES.keyNextRetirement,
      help: 'Seconds until the next retiring signing key of the algorithm leaves the JWKS (negative: overdue)',
      labelNames: ['algorithm'] as const,
      registers,
      collect() {
        this.reset();
        for (const [algorithm, at] of earliest(self.keys().retirements)) this.set({ algorithm }, (at - Date.now()) / 1000);
      },
    });
    new Gauge({
      name: METRIC_NAMES.keys,
      help: 'Published signing keys (pending, active, retiring) by algorithm and status, as this replica last loaded them',
      labelNames: ['algorithm', 'status'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of self.keys().counts) this.set({ algorithm: c.algorithm, status: c.status }, c.count);
      },
    });
  }

  /** `route` is the route template (`/v1/tenants/:tenantId`), never the raw URL, to bound cardinality. */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  /** A denylist change arrived `seconds` after it was written (clamped at 0: clocks differ slightly). */
  observeRevocationPropagation(seconds: number): void {
    this.revocationPropagation.observe(Math.max(0, seconds));
  }

  usePoolSource(source: () => PoolUse | undefined): void {
    this.pool = source;
  }

  useNotificationSource(channels: () => NotificationChannelState[], polling: () => { active: boolean; intervalSeconds: number }): void {
    this.channels = channels;
    this.polling = polling;
  }

  useKeyLifecycleSource(source: () => KeyLifecycle): void {
    this.keys = source;
  }
}

/** The earliest time per algorithm, in epoch milliseconds. */
function earliest(entries: Array<{ algorithm: string; at: Date }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const { algorithm, at } of entries) out.set(algorithm, Math.min(at.getTime(), out.get(algorithm) ?? Infinity));
  return out;
}
