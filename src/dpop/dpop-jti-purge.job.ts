import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Scheduler } from '../common/scheduling/scheduler';
import { AppConfig } from '../config/app-config';
import { DpopJtiRepository } from './dpop-jti.repository';

/**
 * Deletes used DPoP proof ids whose proofs are past their window, every USED_JTI_PURGE_INTERVAL.
 * Idempotent DELETE: every replica may run it.
 */
@Injectable()
export class DpopJtiPurgeJob implements OnApplicationBootstrap {
  constructor(
    private readonly jtis: DpopJtiRepository,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.every({
      name: 'Purge of used DPoP proof ids',
      intervalSeconds: this.config.usedJtiPurgeIntervalSeconds,
      run: () => this.jtis.purgeExpired(this.clock.now()),
    });
  }
}
