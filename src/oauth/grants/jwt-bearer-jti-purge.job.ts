import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { Scheduler } from '../../common/scheduling/scheduler';
import { AppConfig } from '../../config/app-config';
import { JwtBearerJtiRepository } from './jwt-bearer-jti.repository';

/**
 * Deletes used jwt-bearer assertion ids whose assertions have expired, every USED_JTI_PURGE_INTERVAL.
 * Idempotent DELETE: every replica may run it.
 */
@Injectable()
export class JwtBearerJtiPurgeJob implements OnApplicationBootstrap {
  constructor(
    private readonly jtis: JwtBearerJtiRepository,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.every({
      name: 'Purge of used assertion ids',
      intervalSeconds: this.config.usedJtiPurgeIntervalSeconds,
      run: () => this.jtis.purgeExpired(this.clock.now()),
    });
  }
}
