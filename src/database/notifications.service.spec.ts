import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../common/scheduling/scheduler';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { NotificationsService, NotificationSubscriber, PROBE_TIMEOUT_MS } from './notifications.service';
import type { PgListenerHandlers, PgListenerOptions } from './pg-listener';

/** A stand-in for the LISTEN connection: NOTIFYs sent through the "pool" reach it only while `network.delivers`. */
const network = { delivers: true, listeners: [] as FakeListener[] };

class FakeListener {
  isListening = false;
  constructor(
    readonly options: PgListenerOptions,
    readonly handlers: PgListenerHandlers,
  ) {
    network.listeners.push(this);
  }
  async start(): Promise<void> {
    this.isListening = true;
    await this.handlers.onListening();
  }
  async stop(): Promise<void> {
    this.isListening = false;
  }
}

jest.mock('./pg-listener', () => ({
  PgListener: jest
    .fn()
    .mockImplementation((options: PgListenerOptions, handlers: PgListenerHandlers) => new FakeListener(options, handlers)),
  connectionStringOf: () => 'postgres://pool',
}));

function setup(sessionUrl?: string) {
  network.listeners = [];
  network.delivers = true;
  const dataSource = {
    query: jest.fn(async (_sql: string, [channel, payload]: [string, string]) => {
      if (!network.delivers) return;
      for (const l of network.listeners)
        if (l.options.channel === channel && l.isListening) setImmediate(() => l.handlers.onNotification(payload));
    }),
  } as unknown as DataSource;
  const config = { database: { sessionUrl }, denylistReloadIntervalSeconds: 60, notifyFallbackPollIntervalSeconds: 5 } as AppConfig;
  const metrics = new MetricsService();
  const service = new NotificationsService(dataSource, config, metrics, new Scheduler());
  const subscriber = (): NotificationSubscriber & { received: string[] } => {
    const received: string[] = [];
    return {
      received,
      onNotification: (p) => received.push(p),
      onListening: jest.fn(async () => undefined),
      poll: jest.fn(async () => undefined),
    };
  };
  return { service, metrics, subscriber };
}

describe('NotificationsService', () => {
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** Runs `work` while advancing the fake clock past the self-test timeout. */
  async function withTimeout<T>(work: Promise<T>): Promise<T> {
    await jest.advanceTimersByTimeAsync(PROBE_TIMEOUT_MS + 1);
    return work;
  }

  it('passes the self-test when the NOTIFY comes back, and hands other payloads to the subscriber only', async () => {
    const { service, subscriber } = setup('postgres://direct');
    const s = subscriber();
    await service.listen('ch', { applicationName: 'tessera-ch', description: 'Test listener' }, s);
    expect(network.listeners[0].options.connectionString).toBe('postgres://direct');
    expect(service.isPolling()).toBe(false);
    expect(s.received).toEqual([]);
    network.listeners[0].handlers.onNotification('{"t":"jti"}');
    expect(s.received).toEqual(['{"t":"jti"}']);
    // Another replica's self-test is not a change.
    network.listeners[0].handlers.onNotification('{"t":"probe","id":"someone-else"}');
    expect(s.received).toEqual(['{"t":"jti"}']);
    expect(warn).not.toHaveBeenCalled();
    await service.onModuleDestroy();
  });

  it('warns once for all channels when notifications do not arrive, polls at once and every interval, and says when they are back', async () => {
    const { service, metrics, subscriber } = setup();
    network.delivers = false;
    const a = subscriber();
    const b = subscriber();
    await withTimeout(service.listen('a', { applicationName: 'a', description: 'A' }, a));
    await withTimeout(service.listen('b', { applicationName: 'b', description: 'B' }, b));
    expect(network.listeners[0].options.connectionString).toBe('postgres://pool');
    expect(service.isPolling()).toBe(true);
    const warnings = () => warn.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('Notifications do not arrive'));
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain('set DATABASE_SESSION_URL');
    expect(warnings()[0]).toContain('polling every 5 s (NOTIFY_FALLBACK_POLL_INTERVAL)');
    expect(a.poll).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(5000);
    expect(a.poll).toHaveBeenCalledTimes(2);
    expect(b.poll).toHaveBeenCalledTimes(2);
    const scrape = await metrics.registry.metrics();
    expect(scrape).toMatch(/^tessera_notification_fallback_polling 1$/m);
    expect(scrape).toMatch(/^tessera_notification_healthy\{channel="a"\} 0$/m);

    // The periodic self-test fails again: no second warning.
    await withTimeout(service.probeAll());
    expect(warnings()).toHaveLength(1);

    network.delivers = true;
    await service.probeAll();
    expect(service.isPolling()).toBe(false);
    expect(log.mock.calls.map((c) => String(c[0]))).toEqual(
      expect.arrayContaining([expect.stringContaining('Notifications on a arrive again')]),
    );
    await jest.advanceTimersByTimeAsync(5000);
    expect(a.poll).toHaveBeenCalledTimes(2);
    expect(await metrics.registry.metrics()).toMatch(/^tessera_notification_fallback_polling 0$/m);

    // A later outage warns again.
    network.delivers = false;
    await withTimeout(service.probeAll());
    expect(warnings()).toHaveLength(2);
    await service.onModuleDestroy();
  });

  it('polls a channel whose LISTEN connection is down', async () => {
    const { service, subscriber } = setup('postgres://direct');
    const s = subscriber();
    await service.listen('ch', { applicationName: 'ch', description: 'Test listener' }, s);
    expect(service.isPolling()).toBe(false);
    network.listeners[0].isListening = false;
    network.listeners[0].handlers.onLost('connection ended', 250);
    expect(service.isPolling()).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Test listener connection lost (connection ended)'));
    await jest.advanceTimersByTimeAsync(5000);
    expect(s.poll).toHaveBeenCalledTimes(1);
    await service.onModuleDestroy();
  });
});
