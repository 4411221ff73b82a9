import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Scheduler } from '../common/scheduling/scheduler';
import { AppConfig } from '../config/app-config';
import { AssertionJtiRepository } from './assertion-jti.repository';

/**
 * Deletes used client assertion ids (private_key_jwt, trusted issuers' tokens) whose assertions have
 * expired, every USED_JTI_PURGE_INTERVAL. Idempotent DELETE: every replica may run it.
 */
@Injectable()
export class AssertionJtiPurgeJob implements OnApplicationBootstrap {
  constructor(
    private readonly jtis: AssertionJtiRepository,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.every({
      name: 'Purge of used client assertion ids',
      intervalSeconds: this.config.usedJtiPurgeIntervalSeconds,
      run: () => this.jtis.purgeExpired(this.clock.now()),
    });
  }
}
