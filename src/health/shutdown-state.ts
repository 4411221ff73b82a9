import { Injectable } from '@nestjs/common';

/**
 * Whether this replica is going away. Set on SIGTERM, before anything closes: from then on
 * /health/ready answers 503 (load balancers stop sending new requests) and responses carry
 * `Connection: close` (keep-alive connections end after their current request instead of
 * being cut when HTTP closes), while every request is still served until the drain ends.
 */
@Injectable()
export class ShutdownState {
  private since?: number;

  get draining(): boolean {
    return this.since !== undefined;
  }

  beginDraining(now = Date.now()): void {
    this.since ??= now;
  }
}
