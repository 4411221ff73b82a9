import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Scheduler } from '../common/scheduling/scheduler';
import { AppConfig } from '../config/app-config';
import { RefreshTokensRepository } from './refresh-tokens.repository';

/** Families per DELETE: keeps each statement (and its locks and WAL) short. */
export const REFRESH_PURGE_BATCH_SIZE = 10_000;
/** At most this many batches per run (a million families); the rest waits for the next run. */
const MAX_BATCHES_PER_RUN = 100;
/**
 * Only families dead for longer than this are purged: a replica whose clock runs a little
 * behind could still be rotating a token that has just expired by this replica's clock.
 */
export const REFRESH_PURGE_MARGIN_SECONDS = 60;

/**
 * Deletes refresh families that can no longer be used, every REFRESH_PURGE_INTERVAL (default
 * 1 h, 0 = off), in every replica: the DELETE is idempotent and skips locked rows, so replicas
 * neither collide nor wait. Expired jwt-bearer jtis are purged by JwtBearerJtiPurgeJob, expired
 * denylist rows by DenylistService; all of them run on the Scheduler (common/scheduling).
 */
@Injectable()
export class RefreshPurgeService implements OnApplicationBootstrap {
  private readonly logger = new Logger('RefreshPurge');
  private running?: Promise<number>;

  constructor(
    private readonly repository: RefreshTokensRepository,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly scheduler: Scheduler,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.every({
      name: 'Purge of expired refresh families',
      intervalSeconds: this.config.refreshPurgeIntervalSeconds,
      run: () => this.tick(),
    });
  }

  /** One run: batches until a batch comes back short. Runs of one replica never overlap. Returns the number of families deleted. */
  purge(batchSize = REFRESH_PURGE_BATCH_SIZE): Promise<number> {
    this.running ??= this.purgeBatches(batchSize).finally(() => (this.running = undefined));
    return this.running;
  }

  private async purgeBatches(batchSize: number): Promise<number> {
    const expiredBefore = new Date(this.clock.now().getTime() - REFRESH_PURGE_MARGIN_SECONDS * 1000);
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const deleted = await this.repository.purgeExpiredFamilies(expiredBefore, batchSize);
      total += deleted;
      if (deleted < batchSize) break;
    }
    return total;
  }

  private async tick(): Promise<void> {
    const families = await this.purge();
    if (families > 0) this.logger.log({ msg: 'Purged expired refresh families', families });
  }
}
