import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { MetricsService } from '../observability/metrics.service';

/** Publishes the use of the pg pool behind TypeORM (total, idle, waiting, max) on /metrics. */
@Injectable()
export class PoolMetrics {
  constructor(@InjectDataSource() dataSource: DataSource, metrics: MetricsService) {
    metrics.usePoolSource(() => {
      // TypeORM's Postgres driver keeps its pg.Pool as `master` (no public accessor).
      const pool = (dataSource.driver as unknown as { master?: Pool }).master;
      if (!pool) return undefined;
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 0 };
    });
  }
}
