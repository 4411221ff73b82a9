import type { LoggerService } from '@nestjs/common';
import type { TesseraApp } from '../bootstrap';
import { AppConfig } from '../config/app-config';
import { installGracefulShutdown } from './graceful-shutdown';
import { ShutdownState } from './shutdown-state';

describe('installGracefulShutdown', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setUp(close: () => Promise<void>) {
    const state = new ShutdownState();
    const handlers: Record<string, () => void> = {};
    const exit = jest.fn();
    const closeSpy = jest.fn(close);
    const tessera = { app: { get: () => state }, close: closeSpy } as unknown as TesseraApp;
    const config = { shutdown: { drainSeconds: 10, timeoutSeconds: 15 } } as AppConfig;
    const logger = { log: jest.fn(), error: jest.fn(), warn: jest.fn() } as unknown as LoggerService;
    installGracefulShutdown({ tessera, config, logger, exit, onSignal: (signal, handler) => (handlers[signal] = handler) });
    return { state, handlers, exit, close: closeSpy };
  }

  it('on SIGTERM turns readiness off at once, closes only after the drain, then exits 0', async () => {
    const { state, handlers, exit, close } = setUp(() => Promise.resolve());
    handlers.SIGTERM();
    expect(state.draining).toBe(true);
    await jest.advanceTimersByTimeAsync(9_999);
    expect(close).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(close).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
    // A second signal changes nothing.
    handlers.SIGTERM();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(close).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledTimes(1);
  });

  it('exits 1 at drain + timeout when closing hangs', async () => {
    const { handlers, exit } = setUp(() => new Promise<void>(() => undefined));
    handlers.SIGTERM();
    await jest.advanceTimersByTimeAsync(24_999);
    expect(exit).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('skips the drain on SIGINT', async () => {
    const { state, handlers, close } = setUp(() => Promise.resolve());
    handlers.SIGINT();
    expect(state.draining).toBe(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(close).toHaveBeenCalledTimes(1);
  });
});
