import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';

/** One periodic job: `run` every `intervalSeconds` (0 = off). */
export interface PeriodicJob {
  /** Says what the job does, for the log line of a failed run, e.g. 'Purge of expired refresh families'. */
  name: string;
  intervalSeconds: number;
  run: () => Promise<unknown>;
}

interface Scheduled {
  job: PeriodicJob;
  timer: NodeJS.Timeout;
  running?: Promise<void>;
}

/**
 * The one way Tessera runs periodic work (purges, backstop reloads, key checks, self-tests).
 * Every job gets the same rules: its interval comes from the config (0 turns it off); the timer
 * is unref'd, so it never keeps the process alive; a run never overlaps the previous one (a tick
 * that comes while a run is still going is skipped, not stacked up); a failed run is logged as a
 * warning and the next tick tries again; at shutdown the timers stop and running runs are awaited
 * before the pool closes. @nestjs/schedule would give the timers but none of these rules, and its
 * decorators take a fixed interval, not one from the config.
 */
@Injectable()
export class Scheduler implements OnModuleDestroy {
  private readonly logger = new Logger('Scheduler');
  private readonly jobs = new Set<Scheduled>();
  private stopped = false;

  /** Starts a job; its first run is one interval from now. */
  every(job: PeriodicJob): void {
    if (job.intervalSeconds <= 0 || this.stopped) return;
    const scheduled: Scheduled = { job, timer: setInterval(() => void this.runOnce(scheduled), job.intervalSeconds * 1000) };
    scheduled.timer.unref();
    this.jobs.add(scheduled);
  }

  /** Stops every job and waits for the runs in progress, so none of them starts a query on a closed pool. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.jobs) clearInterval(s.timer);
    await Promise.all([...this.jobs].map((s) => s.running));
    this.jobs.clear();
  }

  /** Before TypeORM closes the pool (it does so at application shutdown, after every module's destroy hook). */
  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  private runOnce(s: Scheduled): Promise<void> {
    if (s.running || this.stopped) return s.running ?? Promise.resolve();
    s.running = (async () => {
      try {
        await s.job.run();
      } catch (error) {
        this.logger.warn(`${s.job.name} failed, retrying in ${s.job.intervalSeconds} s: ${(error as Error)?.message ?? String(error)}`);
      } finally {
        s.running = undefined;
      }
    })();
    return s.running;
  }
}
