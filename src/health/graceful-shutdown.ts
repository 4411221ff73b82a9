import type { LoggerService } from '@nestjs/common';
import type { TesseraApp } from '../bootstrap';
import { AppConfig } from '../config/app-config';
import { ShutdownState } from './shutdown-state';

export interface GracefulShutdownOptions {
  tessera: TesseraApp;
  config: AppConfig;
  logger: LoggerService;
  /** process.exit in production; a test passes its own. */
  exit?: (code: number) => void;
  /** process.on in production; a test passes its own. */
  onSignal?: (signal: 'SIGTERM' | 'SIGINT', handler: () => void) => void;
}

/**
 * SIGTERM, in this order (docs/adr/0011):
 * 1. readiness answers 503 at once; requests are still served (with `Connection: close`);
 * 2. after SHUTDOWN_DRAIN_SECONDS (long enough for a load balancer's health check to take the
 *    replica out), HTTP closes: no new connections, in-flight requests finish;
 * 3. then the pool and the embedded engine close and the process exits 0;
 * 4. if 2–3 take longer than SHUTDOWN_TIMEOUT_SECONDS the process exits 1 anyway.
 * So a replica is gone at most drain + timeout seconds after SIGTERM. SIGINT (Ctrl-C, no load
 * balancer to wait for) skips the drain. A second signal changes nothing: the deadline stands.
 */
export function installGracefulShutdown({
  tessera,
  config,
  logger,
  exit = (code) => process.exit(code),
  onSignal = (signal, handler) => process.on(signal, handler),
}: GracefulShutdownOptions): (signal: string) => void {
  const state = tessera.app.get(ShutdownState);
  const { drainSeconds, timeoutSeconds } = config.shutdown;
  let stopping = false;

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    state.beginDraining();
    const drainMs = signal === 'SIGINT' ? 0 : drainSeconds * 1000;
    logger.log(
      `${signal} received: /health/ready answers 503; serving for ${drainMs / 1000} s more, then finishing in-flight requests ` +
        `(exit at the latest ${drainMs / 1000 + timeoutSeconds} s from now)`,
      'Main',
    );
    const deadline = setTimeout(
      () => {
        logger.error(
          `Shutdown took longer than SHUTDOWN_TIMEOUT_SECONDS=${timeoutSeconds}: exiting with requests or connections still open`,
          'Main',
        );
        exit(1);
      },
      drainMs + timeoutSeconds * 1000,
    );
    setTimeout(() => {
      logger.log('Drain over: closing HTTP (in-flight requests finish), then the pool and the database', 'Main');
      tessera.close().then(
        () => {
          clearTimeout(deadline);
          exit(0);
        },
        (error: unknown) => {
          logger.error(`Shutdown failed: ${String(error)}`, 'Main');
          clearTimeout(deadline);
          exit(1);
        },
      );
    }, drainMs);
  };
  onSignal('SIGTERM', () => stop('SIGTERM'));
  onSignal('SIGINT', () => stop('SIGINT'));
  return stop;
}
