import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { NotificationsService } from './notifications.service';
import { PoolMetrics } from './pool-metrics';

/**
 * TypeORM on the resolved database URL (the configured server, possibly through PgBouncer, or
 * the embedded engine), plus what every feature shares: LISTEN with its self-test and polling
 * fallback (NotificationsService) and the pool's metrics.
 */
@Module({})
export class DatabaseModule {
  static forRoot(url: string, config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [NotificationsService, PoolMetrics],
      exports: [NotificationsService],
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(url, config.database.poolSize),
          // Applied before the app starts, under an advisory lock (run-migrations.ts), not here.
          migrationsRun: false,
          autoLoadEntities: true,
          // Start-up must not hang on a bad URL: fail after a few tries with a clear line.
          retryAttempts: 3,
          retryDelay: 1000,
        }),
      ],
    };
  }
}
